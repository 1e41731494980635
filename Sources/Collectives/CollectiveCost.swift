import Hardware

/// Closed-form times of the ring and rail-aware (hierarchical) collectives on a `ClusterSpec`: the alpha-beta
/// model of ../shared/REFERENCES.md plus the store-and-forward fill of the first chunk on every hop but the
/// bottleneck (the term `scenarios/ring-allreduce-sweep.moesim` derives), so the emulator should land within a
/// few percent of it.
///
/// Per ring step a rank pays α (the route's latency) + fill; the bytes move at the bottleneck rate. Ring
/// all-reduce: 2(p−1) steps and 2(p−1)/p · S/B; reduce-scatter and all-gather: half. A ring across nodes (one
/// ring in rank order) is bound by its IB crossings: 2(p−1)/p · S at the NIC rate plus one crossing's latency. Hierarchical on n nodes
/// of g GPUs: node phases as a g-ring over NVLink on S, rail phases as an n-ring over IB on S/g per rail (all
/// rails at once); all-reduce = node RS + rail RS + rail AG + node AG.
public struct CollectiveCost: Sendable {
    /// The cluster the collectives run on.
    public let spec: ClusterSpec

    /// Costs on `spec`.
    public init(spec: ClusterSpec) { self.spec = spec }

    private var commOutBytesPerSecond: Double { Double(spec.commSMCount) * spec.gpu.bytesPerSecondPerSM }

    /// The chunk a piece of `pieceBytes` travels in: the piece is cut into slices (`Slicing` defaults) and each
    /// slice into chunks (the cluster's `minChunkBytes` and `maxChunksPerMessage`).
    public func chunkBytes(pieceBytes: Double) -> Double {
        let slicing = Slicing(dtype: .fp8e4m3)
        let slices = Double(slicing.sliceCount(elements: Int(pieceBytes)))
        let slice = pieceBytes / slices
        let chunks = min(Double(spec.maxChunksPerMessage), max(1, (slice / Double(spec.minChunkBytes)).rounded(.up)))
        return slice / chunks
    }

    /// Latency plus fill of one NVLink ring step (comm egress → NVLink → NVSwitch port) for chunks of `c` bytes.
    public func nvlinkStepSeconds(chunkBytes c: Double) -> Double {
        2 * spec.nvlinkHopLatency.seconds + c / commOutBytesPerSecond + c / spec.gpu.nvlinkBytesPerSecond
    }

    /// Latency plus fill of one same-rail IB ring step (comm egress → NIC → leaf port).
    public func railStepSeconds(chunkBytes c: Double) -> Double {
        2 * spec.nicHopLatency.seconds + c / commOutBytesPerSecond + c / spec.gpu.nicBytesPerSecond
    }

    /// Latency plus fill of one cross-rail IB step through a spine (NIC → leaf up → spine → leaf down).
    public func spineStepSeconds(chunkBytes c: Double) -> Double {
        2 * spec.nicHopLatency.seconds + 2 * spec.spineHopLatency.seconds + c / commOutBytesPerSecond
            + 2 * c / spec.gpu.nicBytesPerSecond
    }

    /// Phases (reduce-scatter or all-gather halves) a kind runs: all-reduce 2, the others 1.
    private static func halves(_ kind: CollectiveKind) -> Double { kind == .allReduce ? 2 : 1 }

    /// A ring of `ranks` ranks in rank order over the whole cluster's first GPUs, S = `sizeBytes` (nccl-tests
    /// sizes), seconds. Inside one node the steps are NVLink ones; across nodes every step waits for the IB
    /// crossing (cross-rail, through a spine) at the NIC rate.
    public func ring(_ kind: CollectiveKind, ranks p: Int, sizeBytes: Double) -> Double {
        guard p > 1 else { return 0 }
        let c = chunkBytes(pieceBytes: sizeBytes / Double(p))
        let q = Double(p)
        guard p > spec.gpusPerNode else {
            let bytes = (q - 1) / q * sizeBytes / spec.gpu.nvlinkBytesPerSecond
            return Self.halves(kind) * ((q - 1) * nvlinkStepSeconds(chunkBytes: c) + bytes)
        }
        // Across nodes the IB crossings are the bottleneck and the NVLink steps hide behind them: the bytes at
        // the NIC rate plus one crossing's latency and fill.
        let bytes = Self.halves(kind) * (q - 1) / q * sizeBytes / spec.gpu.nicBytesPerSecond
        return bytes + spineStepSeconds(chunkBytes: c)
    }

    /// The hierarchical plan on `nodes` nodes of `gpusPerNode` GPUs, seconds.
    public func hierarchical(_ kind: CollectiveKind, nodes n: Int, gpusPerNode g: Int, sizeBytes: Double) -> Double {
        let (nodes, local) = (Double(n), Double(g))
        let c = chunkBytes(pieceBytes: sizeBytes / (nodes * local))
        var node = 0.0
        if g > 1 {
            let bytes = (local - 1) / local * sizeBytes / spec.gpu.nvlinkBytesPerSecond
            node = (local - 1) * nvlinkStepSeconds(chunkBytes: c) + bytes
        }
        var rail = 0.0
        if n > 1 {
            let bytes = (nodes - 1) / nodes * (sizeBytes / local) / spec.gpu.nicBytesPerSecond
            rail = (nodes - 1) * railStepSeconds(chunkBytes: c) + bytes
        }
        return Self.halves(kind) * (node + rail)
    }
}
