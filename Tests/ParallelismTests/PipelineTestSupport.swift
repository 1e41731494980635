import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore

/// One pipeline run of the tiny model next to the reference trainer on the same micro-batches.
struct PipelineCase: Sendable, CustomStringConvertible {
    var kind: PipelineScheduleKind?
    var stages: Int
    var microBatches: Int
    /// Interleaved 1F1B's chunks per device (used when `kind` is nil).
    var chunks = 2

    var description: String { "\(kind?.description ?? "interleaved v=\(chunks)") pp=\(stages) m=\(microBatches)" }

    func schedule() throws -> PipelineSchedule {
        guard let kind else {
            return try PipelineSchedule.interleavedOneFOneB(
                devices: stages, chunksPerDevice: chunks, microBatches: microBatches)
        }
        return try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches)
    }
}

/// One sequence of the tiny preset per micro-batch (half its preset batch, to keep the suite fast) with `microBatches` micro-batches over `steps` steps.
func tinyTraining(microBatches: Int, steps: Int, seed: UInt64 = 7) -> TrainingConfig {
    TrainingConfig(
        seed: seed, steps: steps, microBatchesPerStep: microBatches,
        sequencesPerMicroBatch: 1, sequenceLength: ModelPreset.tiny.sequenceLength)
}

/// Builds a single-node cluster, runs `schedule` with `costs` to the end and returns the report.
func runPipeline(
    _ schedule: PipelineSchedule, config: MoEConfig = ModelPreset.tiny.config, steps: Int, costs: PipelineCosts,
    validates: Bool = true, phantom: Bool = false
) throws -> (report: PipelineRunReport, stop: StopReason) {
    let simulation = Simulation(seed: 0)
    simulation.executor.trapsOnForeignEnqueue = true
    let cluster = try Cluster.singleNode(in: simulation)
    let trainer = try PipelineTrainer(
        schedule: schedule, config: config,
        training: tinyTraining(microBatches: schedule.microBatchCount, steps: steps),
        costs: costs, gpus: Array(cluster.gpus.prefix(schedule.deviceCount)), phantom: phantom,
        validates: validates)
    trainer.start()
    let stop = simulation.run()
    guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
    return (try trainer.report(), stop)
}

enum PipelineTestFailure: Error { case stopped(StopReason) }

/// The DP groups of a PP × DP layout (no EP) on `cluster`'s first pp · dp GPUs; none when dp = 1.
func dataGroups(pp: Int, dp: Int, on cluster: Cluster) throws -> [Communicator] {
    guard dp > 1 else { return [] }
    let layout = try ParallelLayout(
        pipelineStages: pp, expertParallel: 1, dataParallelReplicas: dp, gpuCount: pp * dp,
        gpusPerNode: cluster.spec.gpusPerNode)
    return try ParallelLayout.communicators(layout.dataGroups, on: cluster)
}

/// f = b = w = 1 ms.
let unitDurations = OpDurations.uniform(.milliseconds(1))
