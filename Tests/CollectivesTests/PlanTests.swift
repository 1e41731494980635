import Collectives
import Tensors
import Testing

/// Plans are pure data: their shape can be checked without a simulation.
@Suite("Collective plans")
struct PlanTests {
    @Test("ring all-reduce: 2(p-1) steps of one ring block per rank, s slices each", arguments: [2, 3, 8])
    func ringShape(ranks: Int) throws {
        let slicing = Slicing(dtype: .fp32, minSliceBytes: 400, maxSliceCount: 4)
        let plan = try CollectivePlan.allReduce(rankCount: ranks, elementCount: ranks * 300, slicing: slicing)
        try plan.validate()
        #expect(plan.sendCounts == Array(repeating: 2 * (ranks - 1) * 3, count: ranks))
        #expect(
            plan.programs.allSatisfy { $0.inputElementCount == ranks * 300 && $0.outputElementCount == ranks * 300 })
        let scatter = try CollectivePlan.reduceScatter(rankCount: ranks, elementCount: ranks * 300 + 1)
        #expect(scatter.programs.map(\.outputElementCount) == CollectivePlan.evenSplit(ranks * 300 + 1, into: ranks))
    }

    @Test("hierarchical all-to-all: per rank one bundle (tag 1) per other node, to the same in-node index")
    func hierarchicalShape() throws {
        let nodes = (0..<12).map { $0 / 4 }
        let locals = (0..<12).map { $0 % 4 }
        let counts = Array(repeating: Array(repeating: 5, count: 12), count: 12)
        let plan = try CollectivePlan.hierarchicalAllToAll(counts: counts, nodes: nodes, localIndices: locals)
        try plan.validate()
        for (rank, program) in plan.programs.enumerated() {
            let bundles = program.actions.compactMap { action -> (Int, Int)? in
                guard case .send(let blocks, let peer, 1) = action else { return nil }
                return (peer, blocks.count)
            }
            let expectedPeers = [0, 1, 2].filter { $0 != nodes[rank] }.map { $0 * 4 + locals[rank] }
            #expect(bundles.map(\.0) == expectedPeers, "rank \(rank)")
            #expect(bundles.allSatisfy { $0.1 == 4 }, "a bundle holds a piece for each of the 4 GPUs of the node")
        }
    }

    @Test("slice counts follow the minimum slice size and the cap")
    func slicing() {
        let slicing = Slicing(dtype: .bf16)
        #expect(slicing.sliceCount(elements: 1_000) == 1)
        #expect(slicing.sliceCount(elements: 3 << 17) == 3)
        #expect(slicing.sliceCount(elements: 1 << 30) == 16)
        #expect(Slicing.whole.sliceCount(elements: 1 << 30) == 1)
        #expect(CollectivePlan.evenSplit(10, into: 4) == [3, 3, 2, 2])
    }
}
