import Hardware
import Parallelism
import SimCore

/// A `train … compare=` request waiting for its main run to finish.
struct PendingComparison {
    /// The main run's request; each comparison changes only its schedule.
    var request: TrainRequest
    /// The main run's line, for errors.
    var line: CommandLine
    /// The schedules to compare, in the order given.
    var kinds: [PipelineScheduleKind]
    /// The cluster the main run ran on: each comparison runs on a fresh one of this spec.
    var spec: ClusterSpec
    /// The log's run count before the main run: it has finished once the log holds more.
    var runsBefore: Int
}

/// One schedule's run of a comparison: its name and its last step.
struct ScheduleComparison: Sendable {
    var scheduleName: String
    var step: StepReport
}

/// `train … compare=1f1b,zb1p`: the same layout, model, batch and options under other schedules, each on a fresh
/// world (a new simulation and cluster of the same spec, the same seed) once the main run has finished, for
/// `show step`'s comparison table and the `train.compare[S].*` metrics.
extension TrainCommands {
    /// Schedules `compare=` accepts: those that run a pipeline of `pp` devices (DualPipe-V and interleaved 1F1B
    /// place stages differently).
    static let comparableSchedules: [PipelineScheduleKind] = [.gpipe, .oneFOneB, .zeroBubbleH1, .dualPipe]

    /// The schedules `compare=` names, checked against the main run's `schedule` (same pp and m: DualPipe needs m
    /// even and ≥ 2 PP, the others any m); nil without `compare=`.
    func pendingComparison(
        _ request: TrainRequest, line: CommandLine, cluster: Cluster, schedule: PipelineSchedule
    ) throws(ScenarioError) -> [PipelineScheduleKind]? {
        guard let token = line.option("compare") else { return nil }
        let main = request.scheduleName ?? PipelineScheduleKind.oneFOneB.rawValue
        guard let mainKind = PipelineScheduleKind(rawValue: main), Self.comparableSchedules.contains(mainKind) else {
            throw line.error(
                "compare= needs a main schedule of pp devices (gpipe, 1f1b, zb1p or dualpipe), not schedule=\(main)",
                at: token)
        }
        var kinds: [PipelineScheduleKind] = []
        var column = token.column
        for name in token.text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = Token(text: String(name), column: column, length: max(1, name.count), isQuoted: false)
            column += name.count + 1
            guard let kind = PipelineScheduleKind(rawValue: String(name)), Self.comparableSchedules.contains(kind)
            else {
                throw line.error(
                    "'\(name)' is not a schedule compare= runs (one of "
                        + Self.comparableSchedules.map(\.rawValue).joined(separator: ", ") + ")", at: part)
            }
            guard kind != mainKind, !kinds.contains(kind) else {
                throw line.error(
                    "compare= names \(kind) \(kind == mainKind ? "as the run's own schedule" : "twice")", at: part)
            }
            do {
                _ = try PipelineSchedule.generate(
                    kind, stages: request.pipelineStages, microBatches: schedule.microBatchCount)
            } catch {
                throw line.error("compare=\(name): \(error)", at: part)
            }
            kinds.append(kind)
        }
        return kinds
    }

    /// ` (then compare=1f1b,zb1p on fresh worlds)` for the queued line.
    func compareSummary(_ kinds: [PipelineScheduleKind]?) -> String {
        guard let kinds else { return "" }
        return "; after it \(kinds.map(\.description).joined(separator: ", ")) on fresh worlds (compare=)"
    }

    /// After a `run`: once the pending comparison's main run has finished, runs every compared schedule to its
    /// end on a fresh world and attaches the results to the run; a message if one fails.
    func runPendingComparison() -> String? {
        guard let pending = pendingComparison else { return nil }
        let log = log
        guard session.simulation.inspect(log, { $0.runs.count }) > pending.runsBefore else { return nil }
        pendingComparison = nil
        var results: [ScheduleComparison] = []
        for kind in pending.kinds {
            do {
                results.append(try compareRun(pending, kind: kind))
            } catch {
                return "compare=\(kind.rawValue): " + ((error as? ScenarioError)?.message ?? String(describing: error))
            }
        }
        session.simulation.inspect(log) { $0.attach(results) }
        for result in results {
            session.output(
                "compared \(result.scheduleName): step time \(StepReportTable.time(result.step.stepTime)) "
                    + "(see show step)")
        }
        return nil
    }

    /// The main run's request under `kind` on a fresh simulation and cluster, run to its end.
    private func compareRun(_ pending: PendingComparison, kind: PipelineScheduleKind) throws -> ScheduleComparison {
        var request = pending.request
        request.scheduleName = kind.rawValue
        // Compare runs are not exported: they keep only the trace hash.
        let simulation = Simulation(seed: session.seed, storesTraceEvents: false)
        let cluster = try Cluster(pending.spec, in: simulation)
        let (trainer, _, schedule) = try pipelineTrainer(request, line: pending.line, cluster: cluster)
        guard !session.interruptRequested() else {
            throw pending.line.error("interrupted (Ctrl-C) before the \(schedule.name) run", at: pending.line.command)
        }
        trainer.start()
        let stop = session.drivingSide(simulation) { simulation.run(until: nil, maxEvents: session.eventBudgetPerRun) }
        if stop == .interrupted {
            throw pending.line.error(
                "interrupted (Ctrl-C) at \(simulation.now) of the \(schedule.name) run; the comparison is dropped, "
                    + "the main run is kept", at: pending.line.command)
        }
        guard stop == .finished else {
            throw pending.line.error("the \(schedule.name) run stopped: \(stop)", at: pending.line.command)
        }
        guard let step = try trainer.report().steps.last?.report else {
            throw pending.line.error("the \(schedule.name) run recorded no step", at: pending.line.command)
        }
        return ScheduleComparison(scheduleName: schedule.name, step: step)
    }
}
