import ArgumentParser
import Foundation
import Hardware
import MoEModel
import Parallelism
import SimCore

/// `moesim-bench train`: the composed PP × EP × ZeRO-1 trainer on the small model, DualPipe with the F&B
/// overlap on and off, then 1F1B and ZB1P on the same layout, on 2 and 8 nodes.
struct TrainBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the small model with PP x EP x ZeRO-1 (DualPipe overlap on/off, 1F1B, ZB1P) on 2 and 8 nodes.")

    @Option(help: "Node counts to run (8 H800 each).") var nodes: [Int] = [2, 8]
    @Option(help: "Pipeline stages (PP); DP_total = GPUs / PP.") var stages = 2
    @Option(help: "EP group size (DP_replica = DP_total / EP).") var ep = 8
    @Option(help: "Micro-batches per pipeline group per step (m).") var microBatches = 8
    @Option(help: "Layers of the small model (at least PP).") var layers = 4
    @Flag(help: "Real values (slow); default phantom: shapes only, the same times.") var real = false

    func validate() throws {
        guard stages >= 2, stages % 2 == 0 else { throw ValidationError("--stages must be even, got \(stages)") }
        guard microBatches >= 2 * stages, microBatches % 2 == 0 else {
            throw ValidationError("--micro-batches must be even and at least 2 PP (DualPipe), got \(microBatches)")
        }
        guard layers >= stages else { throw ValidationError("--layers must be at least PP, got \(layers)") }
        for count in nodes where (8 * count) % (stages * ep) != 0 {
            throw ValidationError("\(count) nodes: \(8 * count) GPUs are not a multiple of PP × EP = \(stages * ep)")
        }
    }

    func run() throws {
        let config = try ModelPreset.small.config(layers: layers)
        print(
            "small model, \(layers) layers, \(ModelPreset.small.sequencesPerMicroBatch * ModelPreset.small.sequenceLength) "
                + "tokens per micro-batch, PP=\(stages) EP=\(ep) ZeRO-1, m=\(microBatches) per pipeline group, H800, "
                + (real ? "real values" : "phantom"))
        print(row("nodes", "schedule", "overlap", "step time", "wall", "events", "events/s"))
        for count in nodes {
            for (kind, overlap) in [
                (PipelineScheduleKind.dualPipe, true), (.dualPipe, false), (.oneFOneB, false), (.zeroBubbleH1, false),
            ] {
                try measure(kind, overlap: overlap, nodes: count, config: config)
            }
        }
    }

    private func measure(_ kind: PipelineScheduleKind, overlap: Bool, nodes: Int, config: MoEConfig) throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: nodes), in: simulation)
        let gpus = cluster.gpus.count
        let layout = try ParallelLayout(
            pipelineStages: stages, expertParallel: ep, dataParallelReplicas: gpus / (stages * ep), gpuCount: gpus,
            gpusPerNode: cluster.spec.gpusPerNode, expertCount: config.routedExpertCount)
        let schedule = try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches)
        let preset = ModelPreset.small
        let training = TrainingConfig(
            seed: 1, steps: 1, microBatchesPerStep: microBatches * layout.dataParallel,
            sequencesPerMicroBatch: preset.sequencesPerMicroBatch, sequenceLength: preset.sequenceLength)
        let trainer = try DistributedTrainer(
            layout: layout, cluster: cluster, schedule: schedule, config: config, training: training, phantom: !real,
            overlapsChunks: overlap)
        let clock = ContinuousClock()
        let start = clock.now
        trainer.start()
        let stop = simulation.run()
        let wall = clock.now - start
        guard stop == .finished else { throw ValidationError("\(schedule.name) stopped: \(stop)") }
        let step = try trainer.report().steps[0].report
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18
        print(
            row(
                "\(nodes)", schedule.name, kind == .dualPipe ? (overlap ? "on" : "off") : "-", "\(step.stepTime)",
                String(format: "%.2f s", seconds), "\(simulation.eventCount)",
                String(format: "%.0f", Double(simulation.eventCount) / seconds)))
    }

    /// The cells padded to columns of 12 characters.
    private func row(_ cells: String...) -> String {
        cells.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined()
    }
}
