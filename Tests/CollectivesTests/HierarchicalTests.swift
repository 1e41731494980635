import Collectives
import Hardware
import SimCore
import Tensors
import Testing

@Suite("Rail-aware hierarchical collectives", .serialized)
struct HierarchicalTests {
    private func communicator(nodes: Int, gpusPerNode: Int = 8) throws -> Communicator {
        let cluster = try Cluster(
            ClusterSpec(gpu: .h800, nodeCount: nodes, gpusPerNode: gpusPerNode), in: makeSimulation())
        return try Communicator.world(of: cluster)
    }

    @Test("all-reduce, reduce-scatter and all-gather give the ring's values on 2 nodes", arguments: [3, 2])
    func numerics(nodes: Int) throws {
        let world = try communicator(nodes: nodes, gpusPerNode: 4)
        let p = world.size
        let count = 4 * p + 3
        let sum = expectedSum(rankCount: p, count: count)
        let allReduce = try CollectiveRunner(communicator: world).run(
            try .hierarchical(
                .allReduce, nodeCount: nodes, gpusPerNode: 4, blockCounts: CollectivePlan.evenSplit(count, into: p)),
            inputs: try testInputs(Array(repeating: count, count: p)))
        #expect(try scalars(allReduce.outputs).allSatisfy { $0 == sum })
        let pieces = CollectivePlan.evenSplit(count, into: p)
        let scatter = try CollectiveRunner(communicator: world).run(
            try .hierarchical(.reduceScatter, nodeCount: nodes, gpusPerNode: 4, blockCounts: pieces, op: .average),
            inputs: try testInputs(Array(repeating: count, count: p)))
        let starts = offsets(pieces)
        for rank in 0..<p {
            let expected = sum[starts[rank]..<starts[rank + 1]].map { $0 * (1 / Float(p)) }
            #expect(try scatter.outputs[rank].scalars() == expected, "rank \(rank)")
        }
        let gather = try CollectiveRunner(communicator: world).run(
            try .hierarchical(.allGather, nodeCount: nodes, gpusPerNode: 4, blockCounts: pieces),
            inputs: try testInputs(pieces))
        let expectedGather = (0..<p).flatMap { testValues(rank: $0, count: pieces[$0]) }
        #expect(try scalars(gather.outputs).allSatisfy { $0 == expectedGather })
    }

    @Test("a group that is not node-major is refused, naming the layout")
    func refusesInterleavedRanks() throws {
        let world = try communicator(nodes: 2, gpusPerNode: 2)
        let mixed = try Communicator(cluster: world.cluster, ranks: [GPUID(0), GPUID(2), GPUID(1), GPUID(3)])
        #expect(throws: CollectiveError.self) {
            try CollectiveRunner.plan(.allReduce, elementCount: 64, on: mixed, algorithm: .hierarchical)
        }
    }

    @Test("256 MiB all-reduce on 2 and 4 nodes: hierarchical within 2 % of its closed form", arguments: [2, 4])
    func timing(nodes: Int) throws {
        let world = try communicator(nodes: nodes)
        let size = 256 * 1_048_576
        let hierarchical = try CollectiveRunner.run(.allReduce, sizeBytes: size, on: world, algorithm: .hierarchical)
        let expected = CollectiveCost(spec: world.cluster.spec).hierarchical(
            .allReduce, nodes: nodes, gpusPerNode: 8, sizeBytes: Double(size))
        let ratio = hierarchical.time.seconds / expected
        #expect(abs(ratio - 1) <= 0.02, "hierarchical \(hierarchical.time) vs closed form \(expected * 1e6) us")
    }

    @Test("on 2 nodes the rail-aware all-reduce is more than twice as fast as one ring through one NIC")
    func beatsSingleRing() throws {
        let size = 64 * 1_048_576
        let ring = try CollectiveRunner.run(.allReduce, sizeBytes: size, on: try communicator(nodes: 2))
        let rails = try CollectiveRunner.run(
            .allReduce, sizeBytes: size, on: try communicator(nodes: 2), algorithm: .hierarchical)
        #expect(ring.time.seconds > 2 * rails.time.seconds, "ring \(ring.time), hierarchical \(rails.time)")
    }
}
