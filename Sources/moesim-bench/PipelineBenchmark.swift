import ArgumentParser
import Foundation
import Hardware
import MoEModel
import Parallelism
import SimCore

/// `moesim-bench pipeline`: every schedule executed on 8 H800 with the `small` model and cost-model times.
struct PipelineBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run GPipe, 1F1B, ZB1P, DualPipe, DualPipe-V and interleaved 1F1B on stage workers (small model).")

    @Option(help: "Pipeline stages (PP); interleaved 1F1B runs PP devices x 2 chunks.") var stages = 8
    @Option(help: "Micro-batches per step (m).") var microBatches = 16
    @Option(help: "Layers of the small model (at least 2 PP, for interleaved 1F1B).") var layers = 16
    @Option(help: "Sequences of 128 tokens per micro-batch.") var sequences = 1
    @Flag(help: "Also train the reference and print the largest parameter difference.") var check = false
    @Flag(help: "Cost-only: move shapes, not values (times are the same; wall time is the executor's).")
    var phantom = false

    func validate() throws {
        guard stages >= 2, stages % 2 == 0, stages <= 8 else {
            throw ValidationError("--stages must be even and in 2...8 (one node), got \(stages)")
        }
        guard microBatches >= 2 * stages, microBatches % stages == 0 else {
            throw ValidationError("--micro-batches must be a multiple of PP and at least 2 PP, got \(microBatches)")
        }
        guard layers >= 2 * stages else { throw ValidationError("--layers must be at least 2 PP, got \(layers)") }
        guard sequences >= 1 else { throw ValidationError("--sequences must be at least 1, got \(sequences)") }
        guard !(check && phantom) else { throw ValidationError("--check needs real values; drop --phantom") }
    }

    func run() throws {
        let config = try ModelPreset.small.config(layers: layers)
        print(
            "small model, \(layers) layers, \(sequences * ModelPreset.small.sequenceLength) tokens per micro-batch, "
                + "PP=\(stages) m=\(microBatches), H800 cost model, \(phantom ? "phantom" : "real values")")
        print(
            row("schedule", "GPUs", "step time", "bubble %", "peak act", "wall", "events/s") + (check ? "max diff" : "")
        )
        let schedules =
            try PipelineScheduleKind.allCases.map {
                try PipelineSchedule.generate($0, stages: stages, microBatches: microBatches)
            } + [
                try PipelineSchedule.interleavedOneFOneB(
                    devices: stages, chunksPerDevice: 2, microBatches: microBatches)
            ]
        for schedule in schedules { try measure(schedule, config: config) }
    }

    private func measure(_ schedule: PipelineSchedule, config: MoEConfig) throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.singleNode(in: simulation)
        let training = TrainingConfig(
            seed: 1, steps: 1, microBatchesPerStep: schedule.microBatchCount, sequencesPerMicroBatch: sequences,
            sequenceLength: ModelPreset.small.sequenceLength)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: training, costs: .model,
            gpus: Array(cluster.gpus.prefix(schedule.deviceCount)), phantom: phantom)
        let clock = ContinuousClock()
        let start = clock.now
        trainer.start()
        let stop = simulation.run()
        let wall = clock.now - start
        guard stop == .finished else { throw ValidationError("\(schedule.name) stopped: \(stop)") }
        let report = try trainer.report()
        let step = report.steps[0]
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18
        var line = row(
            schedule.name, "\(schedule.deviceCount)", "\(step.report.stepTime)",
            String(format: "%.1f", step.timeline.bubbleFraction * 100),
            String(format: "%.1f MiB", Double(report.peakActivationBytes.max() ?? 0) / 1_048_576),
            String(format: "%.2f s", seconds), String(format: "%.0f", Double(simulation.eventCount) / seconds))
        if check {
            var reference = try ReferenceTrainer(config: config, training: training)
            _ = try reference.train()
            line += String(format: "%.1e", try report.maxRelativeDifference(to: reference.parameters))
        }
        print(line)
    }

    /// The cells padded to columns: 18 characters for the name, 12 for the figures.
    private func row(_ cells: String...) -> String {
        cells.enumerated().map { $1.padding(toLength: $0 == 0 ? 18 : 12, withPad: " ", startingAt: 0) }.joined()
    }
}
