import Collectives
import Hardware
import MoEModel
import SimCore

/// DeepSeek's layout end to end: a `ParallelLayout` (PP × EP × DP_replica) on a cluster, its process groups as
/// communicators, and the pipeline trainer whose stage workers run the MoE layers across their EP group and
/// ZeRO-1 over their DP groups (non-expert parameters over DP_total, experts over DP_replica).
///
/// Build it, `start()` it, drive the simulation, then read `report()`.
public final class DistributedTrainer: Sendable {
    /// The layout the run is placed on (GPU g of the layout is the cluster's gpu g).
    public let layout: ParallelLayout
    /// The composed pipeline trainer.
    public let pipeline: PipelineTrainer

    /// A trainer for `schedule` (PP ranks = `layout.pipelineStages`) on the first `layout.gpuCount` GPUs of
    /// `cluster`; `training.microBatchesPerStep` must be DP_total × the schedule's m. `overlapsChunks` runs DualPipe's
    /// F&B cells with their two chunks at once (off: one after the other, for comparison); `activations` as
    /// `PipelineTrainer`'s; `overlapsZeRO` starts each copy's ZeRO-1 once its gradients are final
    /// (`PipelineTrainer`); `emulatesReplicasOnce` runs the schedule on the first DP replica only
    /// (`PipelineTrainer`, an approximation).
    public init(
        layout: ParallelLayout, cluster: Cluster, schedule: PipelineSchedule, config: MoEConfig,
        training: TrainingConfig, phantom: Bool = false, overlapsChunks: Bool = true,
        options: ExpertParallelLayer.Options = ExpertParallelLayer.Options(), activations: ActivationPolicy = .full,
        overlapsZeRO: Bool = false, emulatesReplicasOnce: Bool = false
    ) throws {
        guard layout.gpuCount <= cluster.gpus.count else {
            throw PipelineError.invalidSetup(
                "the layout needs \(layout.gpuCount) GPUs, the cluster has \(cluster.gpus.count)")
        }
        guard schedule.deviceCount == layout.pipelineStages else {
            throw PipelineError.invalidSetup(
                "\(schedule.name) runs on \(schedule.deviceCount) pipeline ranks, the layout has pp=\(layout.pipelineStages)"
            )
        }
        let dataGroups =
            layout.dataParallel > 1 ? try ParallelLayout.communicators(layout.dataGroups, on: cluster) : []
        let expertGroups = try PipelineExpertGroups(layout: layout, on: cluster, options: options)
        self.layout = layout
        pipeline = try PipelineTrainer(
            schedule: schedule, config: config, training: training, costs: .model,
            gpus: Array(cluster.gpus.prefix(layout.gpuCount)), phantom: phantom, dataGroups: dataGroups,
            expertGroups: expertGroups, overlapsChunks: overlapsChunks, activations: activations,
            overlapsZeRO: overlapsZeRO, emulatesReplicasOnce: emulatesReplicasOnce)
    }

    /// Spawns the stage workers (see `PipelineTrainer.start`).
    public func start(
        onFinish: (@Sendable (PipelineRunReport) async throws -> Void)? = nil,
        onFailure: (@Sendable (any Error) async -> Void)? = nil
    ) {
        pipeline.start(onFinish: onFinish, onFailure: onFailure)
    }

    /// The finished run (see `PipelineTrainer.report`).
    public func report() throws -> PipelineRunReport { try pipeline.report() }
}
