import Hardware
import MoEModel
import SimCore
import Tensors

extension ExpertParallelLayer {
    /// Comet's two halves, each one fused kernel: the first GEMM's tiles of each source's rows queue as those
    /// rows arrive (this rank's own first); after the activation, the second GEMM runs in column blocks and each
    /// block's combine starts as it ends. Values travel with the last block; the others carry phantom rows of the
    /// same shape and their share of the bytes. Forward and backward (`pass`) have the same shape.
    func runComet(
        _ pass: EPPass, rank: Int, layouts: [SourceLayout], tagBase: Int, phantom: Bool, shared: [Kernel],
        outgoing: [Tensor?], values: ([Tensor?]) throws -> [Tensor?]
    ) async throws -> PipelineOutcome {
        let simulation = communicator.cluster.simulation
        var outcome = PipelineOutcome()
        let tiles = firstGEMMTiles(pass, rank: rank, layouts: layouts)
        let dispatched = try await dispatchRows(
            rank: rank, outgoing: outgoing, layouts: layouts, legs: pass.dispatchLegs,
            bytesPerToken: dispatchBytesPerToken(pass), tagBase: tagBase, phantom: phantom,
            onArrival: { source in _ = try await enqueue(tiles[source], rank: rank) })
        outcome.dispatchTraffic = dispatched.traffic
        outcome.dispatchEnd = simulation.now
        let inputs = try rowsByExpert(dispatched.rows, layouts: layouts, rank: rank)
        let rows = inputs.reduce(0) { $0 + ($1?.rowCount ?? 0) }
        let experts = inputs.count { $0 != nil }
        _ = try await enqueue(stage(activationKernel(pass, rows: rows), launched: false), rank: rank)
        let blocks = options.cometColumnBlocks
        var ends: [SimInstant] = []
        for block in 0..<blocks {
            let kernel = secondGEMM(
                pass, rows: rows, experts: experts, fraction: 1 / Double(blocks),
                name: "\(secondGEMM(pass, rows: 0, experts: 0).name) block \(block)")
            // The second half is its own fused kernel: its first block pays the launch.
            ends.append(try await enqueue(stage(kernel, launched: block == 0), rank: rank))
        }
        for kernel in shared { outcome.sharedEnd = try await enqueue(kernel, rank: rank) }
        let real = try rowsBySource(try values(inputs), layouts: layouts, rank: rank)
        let blank = try real.map { rows in try rows.map { try Tensor(phantom: $0.shape) } }
        outcome.combineStart = ends[0]
        let share = wire.bf16BytesPerToken / blocks
        var last: [Tensor?] = []
        try await withThrowingTaskGroup(of: (Int, [Tensor?], EPTraffic).self) { group in
            for block in 0..<blocks {
                let isLast = block == blocks - 1
                let bytes = isLast ? wire.bf16BytesPerToken - share * (blocks - 1) : share
                let end = ends[block]
                group.addTask {
                    if end > simulation.now { try await simulation.clock.sleep(until: end) }
                    let result = try await combineRows(
                        rank: rank, outgoing: isLast ? real : blank, layouts: layouts,
                        legs: pass.combineLegs.sub(block), bytesPerToken: bytes, tagBase: tagBase,
                        phantom: phantom || !isLast)
                    return (block, result.rows, result.traffic)
                }
            }
            for try await (block, rows, traffic) in group {
                outcome.combineTraffic = outcome.combineTraffic + traffic
                if block == blocks - 1 { last = rows }
            }
        }
        if !phantom { outcome.expertOutputs = try localExpertRows(last, layout: layouts[rank], phantom: false) }
        return outcome
    }

    /// Per source: the first GEMM's tile of the rows it sends this rank, reading the weights of each expert the
    /// first time a tile (in arrival order: this rank's own rows first) touches it. Stages of the first half's
    /// fused kernel, launched with its dispatch.
    func firstGEMMTiles(_ pass: EPPass, rank: Int, layouts: [SourceLayout]) -> [Kernel] {
        let experts = placement.experts(ofRank: rank)
        let name = firstGEMM(pass, rows: 0, experts: 0).name
        var loaded = [Bool](repeating: false, count: experts.count)
        var tiles = [Kernel](repeating: firstGEMM(pass, rows: 0, experts: 0), count: layouts.count)
        for source in [rank] + (0..<layouts.count).filter({ $0 != rank }) {
            let counts = experts.map { layouts[source].expertCounts[$0] }
            var fresh = 0
            for (index, count) in counts.enumerated() where count > 0 && !loaded[index] {
                loaded[index] = true
                fresh += 1
            }
            tiles[source] = stage(
                firstGEMM(pass, rows: counts.reduce(0, +), experts: fresh, name: "\(name) tile \(source)"),
                launched: false)
        }
        return tiles
    }
}
