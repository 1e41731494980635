import ArgumentParser
import Parallelism
import SimCore

/// `moesim-bench schedules`: bubble, activations and parameters of every pipeline schedule, with Gantt charts.
struct ScheduleBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Analyse GPipe, 1F1B, ZB1P, DualPipe, DualPipe-V and, when PP divides m, interleaved 1F1B.")

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
        var runs = try PipelineScheduleKind.allCases.map {
            (try PipelineSchedule.generate($0, stages: stages, microBatches: microBatches), durations)
        }
        if microBatches % stages == 0 {
            let interleaved = try PipelineSchedule.interleavedOneFOneB(
                devices: stages, chunksPerDevice: 2, microBatches: microBatches)
            runs.append((interleaved, halved(durations)))
        }
        for (schedule, durations) in runs {
            let analysis = try schedule.analyze(durations: durations, sendTime: .nanoseconds(sendNs))
            let percent = (analysis.bubbleFraction * 1000).rounded() / 10
            print(
                row(
                    schedule.name, "\(schedule.deviceCount)", "\(analysis.makespan)", "\(analysis.bubble)",
                    "\(percent)", "\(analysis.peakActivations.max() ?? 0)", "\(analysis.parameterCopies.max() ?? 0)x"))
            if gantt { print(try GanttChart(cellDuration: durations.forward).render(analysis)) }
        }
        if runs.count > PipelineScheduleKind.allCases.count {
            print("interleaved 1F1B: 2 half-size chunks per device (f/2, b/2, w/2); activations, parameters in chunks")
        }
    }

    /// Durations of a stage cut in two chunks.
    private func halved(_ durations: OpDurations) -> OpDurations {
        OpDurations(
            forward: durations.forward / 2, backwardInput: durations.backwardInput / 2,
            backwardWeight: durations.backwardWeight / 2)
    }

    /// The cells padded to columns: 18 characters for the name, 11 for the figures.
    private func row(_ cells: String...) -> String {
        cells.enumerated().map { $1.padding(toLength: $0 == 0 ? 18 : 11, withPad: " ", startingAt: 0) }.joined()
    }
}
