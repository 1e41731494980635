import Hardware

/// Closed-form times of the ring and rail-aware (hierarchical) collectives on a `ClusterSpec`: the alpha-beta
/// model of ../shared/REFERENCES.md plus the store-and-forward fill of the first chunk on every hop but the
/// bottleneck (the term `scenarios/ring-allreduce-sweep.moesim` derives), so the emulator should land within a
/// few percent of it.
///
/// Per ring step a rank pays α (the route's latency) + fill; the bytes move at the bottleneck rate. Ring
/// all-reduce: 2(p−1) steps and 2(p−1)/p · S/B; reduce-scatter and all-gather: half. Hierarchical on n nodes
/// of g GPUs: node phases as a g-ring over NVLink on S, rail phases as an n-ring over IB on S/g per rail (all
/// rails at once); all-reduce = node RS + rail RS + rail AG + node AG.
public struct CollectiveCost: Sendable {
    /// The cluster the collectives run on.
    public let spec: ClusterSpec

    /// Costs on `spec`.
    public init(spec: ClusterSpec) { self.spec = spec }

    /// The chunk size a big message travels in.
    private var chunkBytes: Double { Double(spec.minChunkBytes) }
    private var commOutBytesPerSecond: Double { Double(spec.commSMCount) * spec.gpu.bytesPerSecondPerSM }

    /// Latency plus fill of one NVLink ring step (comm egress → NVLink → NVSwitch port), seconds.
    public var nvlinkStepSeconds: Double {
        2 * spec.nvlinkHopLatency.seconds + chunkBytes / commOutBytesPerSecond
            + chunkBytes / spec.gpu.nvlinkBytesPerSecond
    }

    /// Latency plus fill of one same-rail IB ring step (comm egress → NIC → leaf port), seconds.
    public var railStepSeconds: Double {
        2 * spec.nicHopLatency.seconds + chunkBytes / commOutBytesPerSecond + chunkBytes / spec.gpu.nicBytesPerSecond
    }

    /// Latency plus fill of one cross-rail IB step through a spine (NIC → leaf up → spine → leaf down), seconds.
    public var spineStepSeconds: Double {
        2 * spec.nicHopLatency.seconds + 2 * spec.spineHopLatency.seconds + chunkBytes / commOutBytesPerSecond
            + 3 * chunkBytes / spec.gpu.nicBytesPerSecond
    }

    /// Phases (reduce-scatter or all-gather halves) a kind runs: all-reduce 2, the others 1.
    private static func halves(_ kind: CollectiveKind) -> Double { kind == .allReduce ? 2 : 1 }

    /// A ring of `ranks` ranks in rank order over the whole cluster's first GPUs, S = `sizeBytes` (nccl-tests
    /// sizes), seconds. Inside one node the steps are NVLink ones; across nodes every step waits for the IB
    /// crossing (cross-rail, through a spine) at the NIC rate.
    public func ring(_ kind: CollectiveKind, ranks p: Int, sizeBytes: Double) -> Double {
        guard p > 1 else { return 0 }
        let multiNode = p > spec.gpusPerNode
        let step = multiNode ? spineStepSeconds : nvlinkStepSeconds
        let bandwidth = multiNode ? spec.gpu.nicBytesPerSecond : spec.gpu.nvlinkBytesPerSecond
        let q = Double(p)
        return Self.halves(kind) * ((q - 1) * step + (q - 1) / q * sizeBytes / bandwidth)
    }

    /// The hierarchical plan on `nodes` nodes of `gpusPerNode` GPUs, seconds.
    public func hierarchical(_ kind: CollectiveKind, nodes n: Int, gpusPerNode g: Int, sizeBytes: Double) -> Double {
        let (nodes, local) = (Double(n), Double(g))
        let node =
            g > 1
            ? (local - 1) * nvlinkStepSeconds + (local - 1) / local * sizeBytes / spec.gpu.nvlinkBytesPerSecond : 0
        let rail =
            n > 1
            ? (nodes - 1) * railStepSeconds + (nodes - 1) / nodes * sizeBytes / local / spec.gpu.nicBytesPerSecond : 0
        return Self.halves(kind) * (node + rail)
    }
}
