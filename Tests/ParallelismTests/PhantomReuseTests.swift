import Collectives
import Hardware
import MoEModel
import SimCore
import Tensors
import Testing

@testable import Parallelism

/// What phantom runs keep between EP calls: row sets and flow plans, reused only for the same layouts.
@Suite("Expert-parallel layer: phantom row sets and flow plans kept between calls")
struct PhantomReuseTests {
    /// A 16-rank group on 2 nodes and every rank's layout of one seeded routing (16 tokens, top-2 of 32).
    static func layouts() throws -> (ExpertPlacement, [SourceLayout]) {
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 2, gpusPerNode: 8), in: Simulation(seed: 0))
        let communicator = try Communicator(cluster: cluster, ranks: (0..<16).map { GPUID($0) })
        let placement = try ExpertPlacement(communicator: communicator, expertCount: 32)
        let layouts = try (0..<16).map { rank in
            let experts = (0..<32).map { (rank * 7 + $0 * 5) % 32 }
            let routing = try RoutingDecision(
                tokenCount: 16, expertCount: 32, topK: 2, experts: experts, weights: Array(repeating: 0.5, count: 32))
            return SourceLayout(rank: rank, routing: routing, placement: placement, maxPieces: 2, minPieceTokens: 4)
        }
        return (placement, layouts)
    }

    /// `layouts` rebuilt: equal contents, new objects.
    static func rebuilt(_ layouts: [SourceLayout], _ placement: ExpertPlacement) -> [SourceLayout] {
        layouts.map {
            SourceLayout(rank: $0.rank, routing: $0.routing, placement: placement, maxPieces: 2, minPieceTokens: 4)
        }
    }

    @Test("a row set comes back only for the same layout objects and pattern; anything else builds anew")
    func rowSets() throws {
        let (placement, layouts) = try Self.layouts()
        let sets = PhantomRowSets()
        var builds = 0
        func rows(_ layouts: [SourceLayout], pattern: [Bool] = [], dtype: DType = .bf16) throws -> [Tensor?] {
            try sets.rows(.dispatched, rank: 3, width: 64, dtype: dtype, layouts: layouts, pattern: pattern) {
                builds += 1
                return try layouts.map { try Tensor(phantom: [$0.slotsToRank[3].count, 64], dtype: dtype) }
            }
        }
        let first = try rows(layouts)
        #expect(try rows(layouts).map { $0?.shape } == first.map { $0?.shape })
        #expect(builds == 1, "the same layouts reuse the set")
        _ = try rows(Self.rebuilt(layouts, placement))
        #expect(builds == 2, "new layout objects build anew, even with equal contents")
        _ = try rows(layouts, pattern: [true])
        _ = try rows(layouts, pattern: [true])
        #expect(builds == 3, "a changed pattern builds anew, then is kept")
        _ = try rows(layouts, pattern: [true], dtype: .fp32)
        #expect(builds == 4, "another dtype is another set")
    }

    @Test("a flow plan is shared by calls over the same layouts, cluster and GPUs, rebuilt for new layouts or cluster")
    func flowPlans() throws {
        let (placement, layouts) = try Self.layouts()
        let plans = EPFlowPlans()
        let dispatch = plans.plan(.dispatch(bytesPerToken: 100), layouts: layouts, placement: placement)
        #expect(plans.plan(.dispatch(bytesPerToken: 100), layouts: layouts, placement: placement) === dispatch)
        #expect(plans.plan(.dispatch(bytesPerToken: 200), layouts: layouts, placement: placement) !== dispatch)
        #expect(plans.plan(.combine(bytesPerToken: 100), layouts: layouts, placement: placement) !== dispatch)
        let again = plans.plan(
            .dispatch(bytesPerToken: 100), layouts: Self.rebuilt(layouts, placement), placement: placement)
        #expect(again !== dispatch)
        let (elsewhere, _) = try Self.layouts()
        let other = plans.plan(.dispatch(bytesPerToken: 100), layouts: layouts, placement: elsewhere)
        #expect(other !== dispatch && other.cluster === elsewhere.communicator.cluster, "another cluster, same GPU ids")
        // The plan's flows are the layouts' bytes: each source's IB bytes to a node are its distinct tokens there.
        for rank in 0..<16 {
            let ib = dispatch.firstHops[rank].filter { $0.pair >= 0 }.reduce(0) { $0 + $1.bytes }
            let home = placement.nodeOfRank[rank]
            #expect(ib == 100 * layouts[rank].distinctTokensToNode[1 - home], "rank \(rank)")
        }
        #expect(dispatch.pendingPairs.allSatisfy { $0 > 0 })
    }
}
