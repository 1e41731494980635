import Parallelism
import SimCore

/// The `schedule` command, `show schedule` and the `schedule.*` metrics: pipeline schedules analysed as data.
/// Durations are plain numbers in schedule time units (f=1 b=1.2 …); one unit is held as 1 ms of `SimDuration`
/// so fractions down to 1e-6 units stay exact.
final class ScheduleCommands {
    static let nanosecondsPerUnit: Double = 1_000_000
    static let maxDurationUnits: Double = 1e6
    static let maxChunks = 50_000
    static let maxGanttCells = 4_000
    private(set) var analysis: ScheduleAnalysis?
    private var cellUnits: Double = 1
    /// Set by a queued pipeline `train`: the executed run `show schedule` draws instead (until the next
    /// `schedule` command).
    private var executed: (() -> PipelineRunSummary?)?

    init(session: ScenarioSession) {
        session.register(
            Command(
                "schedule",
                synopsis: "schedule KIND pp=N microbatches=M [chunks=V] [f= b= w= fb= send= sends=reference|eager]",
                summary: "generate, validate and analyse a pipeline schedule (durations in time units)",
                details: [
                    "KIND: " + Self.kindNames.joined(separator: ", ")
                        + " (interleaved 1F1B: chunks=V per device, default 2)",
                    "defaults: f=b=w=1, fb=f+b+w, send=0, sends=reference (a send leaves at the next",
                    "communication point after its producer; eager: when the producer ends)",
                ],
                completionWords: Self.kindNames,
                argumentKeys: ["pp", "microbatches", "chunks", "f", "b", "w", "fb", "send", "sends"]
            ) { [unowned self, unowned session] line in try analyse(line, session: session) })
        session.registerValues(command: "schedule", key: "sends") { SendTiming.allCases.map(\.rawValue) }
        session.registerShow(
            Command(
                "schedule", synopsis: "show schedule [width=80]",
                summary: "ASCII Gantt of the last schedule (or executed pipeline train)",
                details: GanttChart.legend.components(separatedBy: "\n")
            ) {
                [unowned self, unowned session] line in try draw(line, session: session)
            })
        registerMetrics(on: session)
    }

    private func units(_ line: CommandLine, _ key: String, default defaultValue: Double?) throws(ScenarioError)
        -> SimDuration?
    {
        guard line.option(key) != nil || defaultValue != nil else { return nil }
        let value = try line.quantity(key, .number, default: defaultValue)
        guard value >= 0, value <= Self.maxDurationUnits else {
            throw line.error("\(key) must be between 0 and 1e6 time units", at: line.option(key) ?? line.command)
        }
        return SimDuration(nanoseconds: Int64((value * Self.nanosecondsPerUnit).rounded()))
    }

    private func analyse(_ line: CommandLine, session: ScenarioSession) throws {
        try line.check(
            allowedKeys: ["pp", "microbatches", "chunks", "f", "b", "w", "fb", "send", "sends"], maxPositionals: 1)
        guard let kindToken = line.positionals.first else {
            throw line.error("missing schedule kind (\(Self.kindNames.joined(separator: ", ")))", at: line.command)
        }
        let kind = PipelineScheduleKind(rawValue: kindToken.text)
        guard kind != nil || kindToken.text == "interleaved" else {
            let kinds = Self.kindNames.joined(separator: ", ")
            throw line.error("unknown schedule '\(kindToken.text)' (one of \(kinds))", at: kindToken)
        }
        let chunks = try line.integer("chunks", in: 1...64, default: 2)
        let stages = try line.integer("pp", in: 1...1024)
        let microBatches = try line.integer("microbatches", in: 1...100_000)
        // Bounds keep the schedule in memory and its times inside Int64 nanoseconds:
        // at most 50 000 stage × micro-batch chunks, each op at most 1e6 units (1e12 ns).
        guard stages * microBatches * (kind == nil ? chunks : 1) <= Self.maxChunks else {
            throw line.error(
                (kind == nil ? "pp × chunks × microbatches" : "pp × microbatches")
                    + " = \(stages * microBatches * (kind == nil ? chunks : 1)) is too large (at most \(Self.maxChunks))",
                at: line.option("microbatches") ?? line.command)
        }
        let durations = try OpDurations(
            forward: units(line, "f", default: 1) ?? .zero, backwardInput: units(line, "b", default: 1) ?? .zero,
            backwardWeight: units(line, "w", default: 1) ?? .zero, forwardBackward: units(line, "fb", default: nil))
        let send = try units(line, "send", default: 0) ?? .zero
        let timing = SendTiming(
            rawValue: try line.choice("sends", SendTiming.allCases.map(\.rawValue), default: "reference"))
        let schedule: PipelineSchedule
        executed = nil
        do {
            if let kind {
                schedule = try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches)
            } else {
                schedule = try PipelineSchedule.interleavedOneFOneB(
                    devices: stages, chunksPerDevice: chunks, microBatches: microBatches)
            }
            try schedule.validate()
            analysis = try schedule.analyze(durations: durations, sendTime: send, sendTiming: timing ?? .reference)
        } catch {
            throw line.error(String(describing: error), at: kindToken)
        }
        let smallest = Self.cellBasis([durations.forward, durations.backwardInput, durations.backwardWeight])
        // One cell per shortest op, but never more than `maxGanttCells` cells for the whole chart.
        let makespanUnits = Double(analysis?.makespan.nanoseconds ?? 0) / Self.nanosecondsPerUnit
        let shortestUnits = smallest.map { Double($0.nanoseconds) / Self.nanosecondsPerUnit } ?? 1
        cellUnits = max(shortestUnits, makespanUnits / Double(Self.maxGanttCells))
        report(name: schedule.name, stages: stages, microBatches: microBatches, session: session)
    }

    /// `schedule` kinds: the generated ones and `interleaved`.
    static let kindNames = PipelineScheduleKind.allCases.map(\.rawValue) + ["interleaved"]

    private func report(name: String, stages: Int, microBatches: Int, session: ScenarioSession) {
        guard let analysis else { return }
        session.output(
            "\(name) pp=\(stages) m=\(microBatches) on \(analysis.busyTime.count) devices: makespan "
                + "\(format(analysis.makespan)), bubble \(format(analysis.bubble)) "
                + "(\(Quantity.compactNumber(analysis.bubbleFraction * 100))%), peak activations "
                + "\(analysis.peakActivations.max() ?? 0), parameter copies \(analysis.parameterCopies.max() ?? 0)x")
        if let note = Self.parameterCopiesNote(analysis.parameterCopies, stages: stages) { session.output(note) }
    }

    /// What "parameter copies Nx" means when a device holds more than one stage: duplicated weights (DualPipe:
    /// every stage on two devices) or just two different stages per device (DualPipe-V).
    static func parameterCopiesNote(_ copies: [Int], stages: Int) -> String? {
        let most = copies.max() ?? 0
        guard most > 1, stages > 0 else { return nil }
        let held = copies.reduce(0, +)
        guard held > stages else {
            return "  parameter copies \(most)x: \(most) different stages per device, each stage on one device only "
                + "(no duplicate weights)"
        }
        return "  parameter copies \(most)x: \(most) stages per device and every stage on \(held / stages) devices, "
            + "so the model's weights are held \(held / stages) times"
    }

    /// The duration one Gantt cell stands for: the shortest positive one among `durations` that is at least
    /// 1/8 of the longest. Much shorter ops (f=0.001 next to b=1) take one cell each and push their row right,
    /// instead of shrinking the cell until the chart is thousands of columns wide.
    static func cellBasis(_ durations: [SimDuration]) -> SimDuration? {
        let positive = durations.filter { $0 > .zero }
        guard let longest = positive.max() else { return nil }
        return positive.filter { $0.nanoseconds * 8 >= longest.nanoseconds }.min()
    }

    /// Makes `show schedule` draw the executed timeline `summary` returns (nil until the run has finished).
    func showExecuted(_ summary: @escaping () -> PipelineRunSummary?) { executed = summary }

    private func draw(_ line: CommandLine, session: ScenarioSession) throws {
        try line.check(allowedKeys: ["width"], maxPositionals: 1)
        if let executed {
            guard let summary = executed(), let step = summary.report.steps.last else {
                throw line.error("the queued pipeline train has not run yet: 'run' first", at: line.command)
            }
            return try drawExecuted(step.timeline, summary: summary, line: line, session: session)
        }
        guard let analysis else {
            throw line.error("no schedule yet: run 'schedule KIND pp=N microbatches=M'", at: line.command)
        }
        let width = try line.integer("width", in: 20...1_000, default: 80)
        let cell = SimDuration(nanoseconds: Int64((cellUnits * Self.nanosecondsPerUnit).rounded()))
        var chart = try GanttChart(cellDuration: cell, width: width)
        chart.cellLabel = Quantity.compactNumber(cellUnits) + " time unit" + (cellUnits == 1 ? "" : "s")
        session.output(chart.render(analysis))
    }

    /// The last step of a pipeline train as it ran: one cell per shortest op (at most `maxGanttCells` cells).
    private func drawExecuted(
        _ timeline: ScheduleAnalysis, summary: PipelineRunSummary, line: CommandLine, session: ScenarioSession
    ) throws {
        let width = try line.integer("width", in: 20...1_000, default: 80)
        let shortest = Self.cellBasis(timeline.spans.joined().map { $0.end - $0.start }) ?? .nanoseconds(1)
        let floor = SimDuration(nanoseconds: max(1, timeline.makespan.nanoseconds / Int64(Self.maxGanttCells)))
        let cell = max(shortest, floor)
        var chart = try GanttChart(cellDuration: cell, width: width)
        if summary.isUnitCost {
            let units = Double(cell.nanoseconds) / Self.nanosecondsPerUnit
            chart.cellLabel = Quantity.compactNumber(units) + " time unit" + (units == 1 ? "" : "s")
        }
        session.output("executed timeline of the last step:")
        session.output(chart.render(timeline))
    }

    private func format(_ duration: SimDuration) -> String {
        Quantity.compactNumber(Double(duration.nanoseconds) / Self.nanosecondsPerUnit)
    }

    private func registerMetrics(on session: ScenarioSession) {
        let unit = Self.nanosecondsPerUnit
        session.register(
            Metric("schedule.makespan", .number, "time units from first op to last") { [unowned self] _ in
                analysis.map { Double($0.makespan.nanoseconds) / unit }
            })
        session.register(
            Metric("schedule.bubble", .number, "largest per-device idle time, time units") { [unowned self] _ in
                analysis.map { Double($0.bubble.nanoseconds) / unit }
            })
        session.register(
            Metric("schedule.bubble_fraction", .number, "bubble / makespan") { [unowned self] _ in
                analysis?.bubbleFraction
            })
        perDevice(session, "schedule.busy[r]", "device r's compute time, time units") {
            Double($0.busyTime[$1].nanoseconds) / unit
        }
        perDevice(session, "schedule.idle[r]", "device r's idle time, time units") {
            Double($0.idleTime[$1].nanoseconds) / unit
        }
        perDevice(session, "schedule.peak_activations[r]", "micro-batches device r holds at peak") {
            Double($0.peakActivations[$1])
        }
        perDevice(session, "schedule.parameter_copies[r]", "stage copies device r holds") {
            Double($0.parameterCopies[$1])
        }
    }

    private func perDevice(
        _ session: ScenarioSession, _ name: String, _ summary: String,
        _ value: @escaping (ScheduleAnalysis, Int) -> Double
    ) {
        session.register(
            Metric(
                name, .number, summary,
                instances: { [unowned self] in (0..<(analysis?.busyTime.count ?? 0)).map { [String($0)] } }
            ) { [unowned self] selectors in
                guard let analysis, let device = selectors.first.flatMap({ Int($0) }),
                    analysis.busyTime.indices.contains(device)
                else { return nil }
                return value(analysis, device)
            })
    }
}
