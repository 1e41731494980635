import Collectives
import Hardware
import SimCore
import Tensors
import Testing

/// Every collective on real tensors against the directly computed result.
@Suite("Collective numerics")
struct NumericsTests {
    static let shapes: [(ranks: Int, elements: Int)] = [(1, 5), (2, 7), (3, 1_001), (5, 64), (8, 10_007), (8, 3)]

    @Test("all-reduce sum equals the element-wise sum on every rank", arguments: shapes)
    func allReduceSum(ranks: Int, elements: Int) throws {
        let communicator = try nodeCommunicator(size: ranks)
        let plan = try CollectivePlan.allReduce(
            rankCount: ranks, elementCount: elements, slicing: Slicing(dtype: .fp32, minSliceBytes: 64))
        let outcome = try CollectiveRunner(communicator: communicator).run(
            plan, inputs: try testInputs(Array(repeating: elements, count: ranks)))
        let expected = expectedSum(rankCount: ranks, count: elements)
        #expect(try scalars(outcome.outputs) == Array(repeating: expected, count: ranks))
    }

    @Test("all-reduce average divides the sum by the rank count once")
    func allReduceAverage() throws {
        let plan = try CollectivePlan.allReduce(rankCount: 5, elementCount: 23, op: .average)
        let outcome = try CollectiveRunner(communicator: try nodeCommunicator(size: 5)).run(
            plan, inputs: try testInputs(Array(repeating: 23, count: 5)))
        let expected = expectedSum(rankCount: 5, count: 23).map { $0 * (1 / Float(5)) }
        #expect(try scalars(outcome.outputs) == Array(repeating: expected, count: 5))
    }

    @Test("reduce-scatter leaves rank r the sum of piece r; pieces differ by one element", arguments: shapes)
    func reduceScatter(ranks: Int, elements: Int) throws {
        let plan = try CollectivePlan.reduceScatter(rankCount: ranks, elementCount: elements)
        let outcome = try CollectiveRunner(communicator: try nodeCommunicator(size: ranks)).run(
            plan, inputs: try testInputs(Array(repeating: elements, count: ranks)))
        let sum = expectedSum(rankCount: ranks, count: elements)
        let pieces = CollectivePlan.evenSplit(elements, into: ranks)
        let starts = offsets(pieces)
        #expect(try scalars(outcome.outputs) == pieces.indices.map { Array(sum[starts[$0]..<starts[$0 + 1]]) })
    }

    @Test("all-gather of uneven contributions concatenates them in rank order on every rank")
    func allGather() throws {
        for counts in [[3, 0, 5, 2, 9], [1, 1], [100, 99, 98, 97, 96, 95, 94, 93]] {
            let plan = try CollectivePlan.allGather(
                elementCounts: counts, slicing: Slicing(dtype: .fp32, minSliceBytes: 128))
            let outcome = try CollectiveRunner(communicator: try nodeCommunicator(size: counts.count)).run(
                plan, inputs: try testInputs(counts))
            let gathered = counts.indices.flatMap { testValues(rank: $0, count: counts[$0]) }
            #expect(try scalars(outcome.outputs) == Array(repeating: gathered, count: counts.count))
        }
    }

    @Test("all-to-all-v delivers exactly the right slices, empty ones included", arguments: [3, 5, 8])
    func allToAllV(ranks: Int) throws {
        let counts = Self.routingCounts(ranks: ranks)
        let plan = try CollectivePlan.allToAll(counts: counts, slicing: Slicing(dtype: .fp32, minSliceBytes: 32))
        let outcome = try CollectiveRunner(communicator: try nodeCommunicator(size: ranks)).run(
            plan, inputs: try testInputs(counts.map { $0.reduce(0, +) }))
        #expect(try scalars(outcome.outputs) == Self.allToAllExpected(counts))
    }

    @Test("hierarchical all-to-all-v across two nodes delivers the same slices as the pairwise one")
    func hierarchicalAllToAllV() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
        let world = try Communicator.world(of: cluster)
        let counts = Self.routingCounts(ranks: 16)
        let plan = try CollectivePlan.hierarchicalAllToAll(
            counts: counts, nodes: world.nodes, localIndices: world.localIndices)
        let outcome = try CollectiveRunner(communicator: world).run(
            plan, inputs: try testInputs(counts.map { $0.reduce(0, +) }))
        #expect(try scalars(outcome.outputs) == Self.allToAllExpected(counts))
    }

    @Test("broadcast from a middle root gives every rank the root's buffer")
    func broadcast() throws {
        let plan = try CollectivePlan.broadcast(
            rankCount: 5, root: 2, elementCount: 1_000, slicing: Slicing(dtype: .fp32, minSliceBytes: 256))
        #expect(plan.sendCounts == [15, 0, 15, 15, 15])
        var inputs = try (0..<5).map { _ in try Tensor(zeros: [0]) }
        inputs[2] = try Tensor(shape: [1_000], values: testValues(rank: 2, count: 1_000))
        let outcome = try CollectiveRunner(communicator: try nodeCommunicator(size: 5)).run(plan, inputs: inputs)
        #expect(try scalars(outcome.outputs) == Array(repeating: testValues(rank: 2, count: 1_000), count: 5))
    }

    @Test("send/receive moves one buffer between two ranks of a larger group")
    func sendReceive() throws {
        let plan = try CollectivePlan.sendReceive(rankCount: 4, from: 3, to: 1, elementCount: 9)
        let inputs = try [0, 0, 0, 9].map { try Tensor(shape: [$0], values: testValues(rank: 3, count: $0)) }
        let outcome = try CollectiveRunner(communicator: try nodeCommunicator(size: 4)).run(plan, inputs: inputs)
        #expect(try scalars(outcome.outputs) == [[], testValues(rank: 3, count: 9), [], []])
    }

    /// Expert-routing-like counts: uneven, some zero, the diagonal included.
    static func routingCounts(ranks: Int) -> [[Int]] {
        (0..<ranks).map { source in
            (0..<ranks).map { target in (source * 7 + target * 3) % 5 == 0 ? 0 : source + 2 * target + 1 }
        }
    }

    /// Rank t's output: every source's piece for t, in source order.
    static func allToAllExpected(_ counts: [[Int]]) -> [[Float]] {
        counts.indices.map { target in
            counts.indices.flatMap { source in
                let values = testValues(rank: source, count: counts[source].reduce(0, +))
                let start = offsets(counts[source])[target]
                return Array(values[start..<(start + counts[source][target])])
            }
        }
    }
}
