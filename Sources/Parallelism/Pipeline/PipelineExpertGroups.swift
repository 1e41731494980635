import Collectives
import Hardware

/// The expert-parallel part of a composed PP × EP × DP run, as `PipelineTrainer` takes it (see
/// `ParallelLayout` for the groups and `DistributedTrainer` for building them from a layout).
public struct PipelineExpertGroups: Sendable {
    /// One EP group per (pipeline rank p, replica r), at index p · DP_replica + r, ranks in expert-rank order
    /// (`ParallelLayout.expertGroups`).
    public var expertGroups: [Communicator]
    /// One expert-DP group per (pipeline rank p, expert rank e), at index p · EP + e
    /// (`ParallelLayout.expertDataGroups`); empty when DP_replica = 1.
    public var expertDataGroups: [Communicator]
    /// The EP layers' knobs (dispatch format, mode, …).
    public var options: ExpertParallelLayer.Options

    /// The groups of a run.
    public init(
        expertGroups: [Communicator], expertDataGroups: [Communicator],
        options: ExpertParallelLayer.Options = ExpertParallelLayer.Options()
    ) {
        self.expertGroups = expertGroups
        self.expertDataGroups = expertDataGroups
        self.options = options
    }

    /// The EP and expert-DP groups of `layout` on `cluster`, or nil when EP = 1.
    public init?(
        layout: ParallelLayout, on cluster: Cluster,
        options: ExpertParallelLayer.Options = ExpertParallelLayer.Options()
    ) throws {
        guard layout.expertParallel > 1 else { return nil }
        let expertData =
            layout.dataParallelReplicas > 1
            ? try ParallelLayout.communicators(layout.expertDataGroups, on: cluster) : []
        self.init(
            expertGroups: try ParallelLayout.communicators(layout.expertGroups, on: cluster),
            expertDataGroups: expertData, options: options)
    }

    /// EP: the size of an EP group.
    var expertParallel: Int { expertGroups.first?.size ?? 1 }
}
