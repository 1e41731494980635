import Collectives
import Hardware

/// DeepSeek-V3's process layout on N = PP × DP_total GPUs, DP_total = EP × DP_replica (no tensor parallelism).
///
/// Rank placement: GPU `stage · DP_total + d` is pipeline stage `stage` of data-parallel index `d`; within a
/// stage, `d = replica · EP + e`, so an EP group is EP contiguous GPUs (whole nodes when EP ≥ the node size,
/// EP64 spans 8 nodes) and pipeline neighbours are DP_total GPUs apart (different nodes once DP_total is a
/// multiple of the node size). Groups:
/// - pipeline group of index d: the PP GPUs of that data-parallel index, in stage order;
/// - EP group: the EP GPUs of one stage and one replica, in expert-rank order;
/// - DP group (non-expert parameters): every DP_total GPU of one stage;
/// - expert-DP group: the DP_replica GPUs of one stage holding the same experts (same expert rank).
public struct ParallelLayout: Sendable, Equatable {
    /// PP: pipeline stages (pipeline ranks).
    public let pipelineStages: Int
    /// EP: GPUs that share one MoE layer's routed experts.
    public let expertParallel: Int
    /// DP_replica: copies of each expert shard.
    public let dataParallelReplicas: Int
    /// GPUs per node of the cluster the layout is placed on.
    public let gpusPerNode: Int

    /// DP_total = EP × DP_replica: data-parallel ranks of the non-expert parameters.
    public var dataParallel: Int { expertParallel * dataParallelReplicas }
    /// N = PP × DP_total.
    public var gpuCount: Int { pipelineStages * dataParallel }

    /// A layout on `gpuCount` GPUs (`gpusPerNode` a node) for a model with `expertCount` routed experts (nil:
    /// not checked); throws naming the value that does not fit.
    public init(
        pipelineStages: Int, expertParallel: Int, dataParallelReplicas: Int, gpuCount: Int, gpusPerNode: Int,
        expertCount: Int? = nil
    ) throws(LayoutError) {
        for (name, value) in [("pp", pipelineStages), ("ep", expertParallel), ("dp-replica", dataParallelReplicas)]
        where value < 1 {
            throw .invalid(name: name, value: value, reason: "must be at least 1")
        }
        if let expertCount, expertCount % expertParallel != 0 {
            throw .invalid(
                name: "ep", value: expertParallel, reason: "does not divide the model's \(expertCount) routed experts")
        }
        if expertParallel >= gpusPerNode, expertParallel % gpusPerNode != 0 {
            throw .invalid(
                name: "ep", value: expertParallel,
                reason: "an EP group of at least a node must be whole nodes (a multiple of \(gpusPerNode))")
        }
        if expertParallel < gpusPerNode, gpusPerNode % expertParallel != 0 {
            throw .invalid(
                name: "ep", value: expertParallel,
                reason: "must divide the \(gpusPerNode) GPUs of a node (an EP group may not straddle nodes)")
        }
        let product = pipelineStages * expertParallel * dataParallelReplicas
        guard product == gpuCount else {
            throw .invalid(
                name: "pp × ep × dp-replica", value: product,
                reason: "\(pipelineStages) × \(expertParallel) × \(dataParallelReplicas) must equal the \(gpuCount) "
                    + "GPUs of the cluster")
        }
        self.pipelineStages = pipelineStages
        self.expertParallel = expertParallel
        self.dataParallelReplicas = dataParallelReplicas
        self.gpusPerNode = gpusPerNode
    }

    /// Where one GPU sits in the layout.
    public struct Coordinates: Sendable, Equatable {
        /// Pipeline rank.
        public var stage: Int
        /// Data-parallel index among DP_total (the pipeline group).
        public var dataIndex: Int
        /// Rank in its EP group (which expert shard it holds).
        public var expertRank: Int
        /// Which copy of the expert shards (rank in its expert-DP group).
        public var replica: Int
    }

    /// The GPU index of `stage` in pipeline group `dataIndex`.
    public func gpu(stage: Int, dataIndex: Int) -> Int { stage * dataParallel + dataIndex }

    /// The coordinates of GPU `index` (0 ..< N).
    public func coordinates(of index: Int) -> Coordinates {
        let dataIndex = index % dataParallel
        return Coordinates(
            stage: index / dataParallel, dataIndex: dataIndex, expertRank: dataIndex % expertParallel,
            replica: dataIndex / expertParallel)
    }

    /// One pipeline group per data-parallel index: its PP GPUs in stage order.
    public var pipelineGroups: [[Int]] {
        (0..<dataParallel).map { d in (0..<pipelineStages).map { gpu(stage: $0, dataIndex: d) } }
    }

    /// One EP group per (stage, replica): EP contiguous GPUs in expert-rank order.
    public var expertGroups: [[Int]] {
        (0..<pipelineStages).flatMap { stage in
            (0..<dataParallelReplicas).map { replica in
                (0..<expertParallel).map { gpu(stage: stage, dataIndex: replica * expertParallel + $0) }
            }
        }
    }

    /// One DP group of the non-expert parameters per stage: its DP_total GPUs.
    public var dataGroups: [[Int]] {
        (0..<pipelineStages).map { stage in (0..<dataParallel).map { gpu(stage: stage, dataIndex: $0) } }
    }

    /// One expert-DP group per (stage, expert rank): the DP_replica GPUs holding the same experts.
    public var expertDataGroups: [[Int]] {
        (0..<pipelineStages).flatMap { stage in
            (0..<expertParallel).map { e in
                (0..<dataParallelReplicas).map { gpu(stage: stage, dataIndex: $0 * expertParallel + e) }
            }
        }
    }

    /// Whether every pair of pipeline neighbours sits on different nodes (DeepSeek-V3's placement).
    public var pipelineNeighboursOnDifferentNodes: Bool {
        pipelineGroups.allSatisfy { group in
            zip(group, group.dropFirst()).allSatisfy { $0 / gpusPerNode != $1 / gpusPerNode }
        }
    }

    /// The nodes one EP group spans.
    public var nodesPerExpertGroup: Int { max(1, expertParallel / gpusPerNode) }

    /// Communicators of `groups` on `cluster` (GPU g of the layout is the cluster's gpu g).
    public static func communicators(_ groups: [[Int]], on cluster: Cluster) throws -> [Communicator] {
        try groups.map { try Communicator(cluster: cluster, ranks: $0.map(GPUID.init)) }
    }

    /// The group of `kind` that holds GPU `index`.
    public func group(_ groups: [[Int]], holding index: Int) -> [Int] {
        groups.first { $0.contains(index) } ?? []
    }
}
