import ArgumentParser
import Parallelism
import SimCore

/// `moesim-bench schedules`: bubble, activations and parameters of every pipeline schedule, with Gantt charts.
struct ScheduleBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules", abstract: "Analyse GPipe, 1F1B, ZB1P, DualPipe and DualPipe-V at one size.")

    @Option(help: "Pipeline stages (PP).") var stages = 8
    @Option(help: "Micro-batches (m).") var microBatches = 20
    @Option(help: "Forward time f, ns.") var forwardNs: Int64 = 1000
    @Option(help: "Input-backward time b, ns.") var backwardInputNs: Int64 = 1000
    @Option(help: "Weight-backward time w, ns.") var backwardWeightNs: Int64 = 1000
    @Option(help: "Per-hop send time, ns.") var sendNs: Int64 = 0
    @Flag(help: "Draw a Gantt chart of each schedule.") var gantt = false

    func run() throws {
        let durations = OpDurations(
            forward: .nanoseconds(forwardNs), backwardInput: .nanoseconds(backwardInputNs),
            backwardWeight: .nanoseconds(backwardWeightNs))
        print(
            "PP=\(stages) m=\(microBatches) f=\(durations.forward) b=\(durations.backwardInput) "
                + "w=\(durations.backwardWeight) send=\(SimDuration.nanoseconds(sendNs))")
        print(row("schedule", "devices", "makespan", "bubble", "bubble %", "peak act", "params"))
        for kind in PipelineScheduleKind.allCases {
            let schedule = try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches)
            let analysis = try schedule.analyze(durations: durations, sendTime: .nanoseconds(sendNs))
            let percent = (analysis.bubbleFraction * 1000).rounded() / 10
            print(
                row(
                    kind.description, "\(schedule.deviceCount)", "\(analysis.makespan)", "\(analysis.bubble)",
                    "\(percent)", "\(analysis.peakActivations.max() ?? 0)", "\(analysis.parameterCopies.max() ?? 0)x"))
            if gantt { print(try GanttChart(cellDuration: durations.forward).render(analysis)) }
        }
    }

    private func row(_ cells: String...) -> String {
        cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
    }
}
