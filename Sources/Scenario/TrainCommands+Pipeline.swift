import Hardware
import MoEModel
import Parallelism
import SimCore

/// What a pipeline `train` run leaves for its metrics and `show schedule`.
struct PipelineRunSummary: Sendable {
    var report: PipelineRunReport
    /// Nanoseconds per reported time unit: a schedule time unit under costs=unit, 1 µs under costs=model.
    var nanosecondsPerUnit: Double
    /// Whether the run used unit costs.
    var isUnitCost: Bool
}

extension TrainCommands {
    /// Queues pipeline-parallel training: a `PipelineTrainer` on the first GPUs of the cluster, checked against
    /// `ReferenceTrainer` on the same micro-batches when it finishes.
    func queuePipeline(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws {
        try checkPipelineRequest(request, line: line)
        let schedule = try pipelineSchedule(request, line: line)
        guard schedule.deviceCount <= cluster.gpus.count else {
            throw line.error(
                "pp=\(request.pipelineStages) needs \(schedule.deviceCount) GPUs for \(schedule.name), the cluster has "
                    + "\(cluster.gpus.count)", at: line.option("pp") ?? line.command)
        }
        guard request.config.layerCount >= schedule.stageCount else {
            throw line.error(
                "layers=\(request.config.layerCount) is fewer than the \(schedule.stageCount) stages of "
                    + "\(schedule.name)", at: line.option("layers") ?? line.option("pp") ?? line.command)
        }
        let training = TrainingConfig(
            seed: request.seed, steps: request.steps, microBatchesPerStep: schedule.microBatchCount,
            sequencesPerMicroBatch: request.preset.sequencesPerMicroBatch,
            sequenceLength: request.preset.sequenceLength)
        let isUnit = request.costs == .unit
        let trainer: PipelineTrainer
        do {
            trainer = try PipelineTrainer(
                schedule: schedule, config: request.config, training: training,
                costs: isUnit ? .unit(unitDurations(request)) : .model,
                gpus: Array(cluster.gpus.prefix(schedule.deviceCount)), phantom: !request.isReal)
        } catch {
            throw line.error(String(describing: error), at: line.option("schedule") ?? line.command)
        }
        let log = log
        let unitNs = isUnit ? ScheduleCommands.nanosecondsPerUnit : 1_000
        let isReal = request.isReal
        trainer.start { report in
            var difference: Double?
            if isReal {
                var reference = try ReferenceTrainer(config: request.config, training: training)
                _ = try reference.train()
                difference = try report.maxRelativeDifference(to: reference.parameters)
            }
            let summary = PipelineRunSummary(report: report, nanosecondsPerUnit: unitNs, isUnitCost: isUnit)
            await log.append(
                TrainingRun(steps: report.steps.map(\.report), maxParameterDifference: difference, pipeline: summary))
        }
        session.component(ScheduleCommands.self)?.showExecuted { [unowned self] in lastRun { $0.pipeline } }
        let ranges = trainer.stageLayers.map(\.count)
        session.output(
            "queued \(schedule.name) pp=\(request.pipelineStages) m=\(schedule.microBatchCount) training of "
                + "model=\(request.preset.rawValue) (\(request.config.layerCount) layers, \(layerSummary(ranges)) "
                + "per stage, \(request.isReal ? "real" : "phantom")) for \(request.steps) step(s), "
                + "costs=\(request.costs.rawValue) on gpu0…gpu"
                + "\(schedule.deviceCount - 1)")
    }

    private func checkPipelineRequest(_ request: TrainRequest, line: CommandLine) throws(ScenarioError) {
        guard request.dataParallel == 1 else {
            throw line.error(
                "dp=\(request.dataParallel) with pp=\(request.pipelineStages) needs the composed trainer (not built "
                    + "yet); use dp=1 for a pipeline run", at: line.option("dp") ?? line.command)
        }
    }

    /// The schedule `schedule=` names (default 1F1B) for pp, microbatches and chunks; errors name the value.
    private func pipelineSchedule(_ request: TrainRequest, line: CommandLine) throws(ScenarioError) -> PipelineSchedule
    {
        let name = request.scheduleName ?? PipelineScheduleKind.oneFOneB.rawValue
        // Without microbatches=, 2 PP: enough for every schedule (DualPipe needs m even and >= 2 PP).
        let microBatches = line.option("microbatches") == nil ? 2 * request.pipelineStages : request.microBatches
        do {
            if name == "interleaved" {
                return try PipelineSchedule.interleavedOneFOneB(
                    devices: request.pipelineStages, chunksPerDevice: request.chunks,
                    microBatches: microBatches)
            }
            return try PipelineSchedule.generate(
                PipelineScheduleKind(rawValue: name) ?? .oneFOneB, stages: request.pipelineStages,
                microBatches: microBatches)
        } catch let error as PipelineScheduleError {
            throw line.error(String(describing: error), at: token(for: error, in: line))
        } catch {
            throw line.error(String(describing: error), at: line.option("schedule") ?? line.command)
        }
    }

    private func token(for error: PipelineScheduleError, in line: CommandLine) -> Token {
        switch error {
        case .tooFewStages, .oddStageCount: line.option("pp") ?? line.command
        case .tooFewMicroBatches, .oddMicroBatchCount, .microBatchesNotMultiple:
            line.option("microbatches") ?? line.command
        case .tooFewChunks: line.option("chunks") ?? line.command
        }
    }

    private func unitDurations(_ request: TrainRequest) -> OpDurations {
        func duration(_ units: Double) -> SimDuration {
            SimDuration(nanoseconds: Int64((units * ScheduleCommands.nanosecondsPerUnit).rounded()))
        }
        return OpDurations(
            forward: duration(request.unitForward), backwardInput: duration(request.unitBackwardInput),
            backwardWeight: duration(request.unitBackwardWeight))
    }

    private func layerSummary(_ counts: [Int]) -> String {
        let low = counts.min() ?? 0
        let high = counts.max() ?? 0
        return low == high ? "\(low)" : "\(low)–\(high)"
    }
}
