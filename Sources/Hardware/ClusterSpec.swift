import SimCore

/// Everything a cluster builder needs: the GPU, the shape of the fabric, latencies, routing and chunking.
///
/// Latency defaults split the published GPU-to-GPU figures over the hops of each path: NVLink 3.3 µs over
/// two hops, IB 2.8 µs same leaf over two hops, 3.7 µs cross leaf over four.
public struct ClusterSpec: Sendable, Equatable {
    /// How a message reaches a GPU on another node and another rail.
    public enum CrossRailRouting: String, Sendable, CaseIterable {
        /// Source NIC, source rail's leaf, a spine, destination rail's leaf, destination NIC.
        case spine
        /// PXN-style: NVLink to the source node's GPU on the destination's rail, then its NIC and rail leaf.
        case pxn
    }

    /// The GPU model of every GPU.
    public var gpu: GPUSpec = .h800
    /// Nodes in the cluster.
    public var nodeCount = 1
    /// GPUs per node, one NVSwitch port and one rail each.
    public var gpusPerNode = 8
    /// SMs per GPU reserved for communication; the rest compute.
    public var commSMCount = GPUSpec.defaultCommSMCount
    /// Latency of each NVLink hop (GPU to NVSwitch, NVSwitch to GPU).
    public var nvlinkHopLatency = SimDuration.nanoseconds(1_650)
    /// Latency of each NIC-side IB hop (NIC to leaf, leaf to NIC).
    public var nicHopLatency = SimDuration.nanoseconds(1_400)
    /// Latency of each spine-side IB hop (leaf to spine, spine to leaf).
    public var spineHopLatency = SimDuration.nanoseconds(450)
    /// Spine switches; nil means one per node, which with `spineLinkBytesPerSecond` at the NIC rate makes the
    /// fat tree non-blocking.
    public var spineCount: Int?
    /// Bandwidth of each leaf-spine link, each direction; nil means the GPU's NIC rate.
    public var spineLinkBytesPerSecond: Double?
    /// How messages cross rails between nodes.
    public var crossRailRouting = CrossRailRouting.spine
    /// The most chunks one message is split into. With `minChunkBytes` the store-and-forward pipeline fill is
    /// at most one 512 KiB chunk per extra hop up to 512 MiB and 1/1024 of the transfer per extra hop above
    /// (0.18 % for 1 GiB over NVLink, 0.32 % through an IB spine), while the events per message stay bounded
    /// (at most one per `minChunkBytes` per hop, and 1024 per hop).
    public var maxChunksPerMessage = 1_024
    /// Chunks are at least this large (a smaller message is one chunk); 512 KiB is the order of NCCL's steps.
    public var minChunkBytes = 512 * 1024
    /// Phantom messages as bulk flows (`Cluster.bookFlow`) instead of chunks: one booking per message on its
    /// route's links, delivered when the flow arrives (an approximation for large phantom runs; real tensors
    /// always travel in chunks).
    public var phantomMessagesAsFlows = false

    /// The default spec: one node of 8 H800.
    public init() {}

    /// A spec of `nodeCount` nodes of `gpusPerNode` `gpu`s, other fields at their defaults.
    public init(gpu: GPUSpec, nodeCount: Int, gpusPerNode: Int = 8) {
        self.gpu = gpu
        self.nodeCount = nodeCount
        self.gpusPerNode = gpusPerNode
    }

    /// The spine count in effect.
    public var effectiveSpineCount: Int { spineCount ?? nodeCount }
    /// The leaf-spine link bandwidth in effect.
    public var effectiveSpineLinkBytesPerSecond: Double { spineLinkBytesPerSecond ?? gpu.nicBytesPerSecond }
    /// All GPUs in the cluster.
    public var gpuCount: Int { nodeCount * gpusPerNode }

    /// Throws `invalidParameter` naming the first field that cannot describe a cluster.
    public func validate() throws {
        try gpu.validate()
        try requireAtLeast(1, nodeCount, "nodeCount")
        try requireAtLeast(1, gpusPerNode, "gpusPerNode")
        try requireAtLeast(1, effectiveSpineCount, "spineCount")
        try requireAtLeast(1, maxChunksPerMessage, "maxChunksPerMessage")
        try requireAtLeast(1, minChunkBytes, "minChunkBytes")
        guard commSMCount >= 1, commSMCount < gpu.smCount else {
            throw HardwareError.invalidParameter(
                name: "commSMCount", value: "\(commSMCount)", reason: "must be in 1...\(gpu.smCount - 1)")
        }
        try HardwareError.requireNonNegative(nvlinkHopLatency.nanoseconds, "nvlinkHopLatency")
        try HardwareError.requireNonNegative(nicHopLatency.nanoseconds, "nicHopLatency")
        try HardwareError.requireNonNegative(spineHopLatency.nanoseconds, "spineHopLatency")
        try HardwareError.requireRate(effectiveSpineLinkBytesPerSecond, "spineLinkBytesPerSecond")
    }

    private func requireAtLeast(_ minimum: Int, _ value: Int, _ name: String) throws {
        guard value >= minimum else {
            throw HardwareError.invalidParameter(name: name, value: "\(value)", reason: "must be at least \(minimum)")
        }
    }
}
