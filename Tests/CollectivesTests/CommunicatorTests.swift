import Collectives
import Hardware
import SimCore
import Testing

@Suite("Communicators")
struct CommunicatorTests {
    @Test("world, node and rail groups number their ranks as documented")
    func builders() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
        #expect(try Communicator.world(of: cluster).ranks.map(\.index) == Array(0..<16))
        #expect(try Communicator.node(1, of: cluster).ranks.map(\.index) == Array(8..<16))
        let rail = try Communicator.rail(3, of: cluster)
        #expect(rail.ranks.map(\.index) == [3, 11])
        #expect(rail.nodes == [0, 1])
        #expect(rail.localIndices == [3, 3])
        #expect(try rail.rank(of: GPUID(11)) == 1)
        #expect(throws: CollectiveError.notInCommunicator(gpu: 4, ranks: [3, 11])) { try rail.rank(of: GPUID(4)) }
        #expect(throws: CollectiveError.self) { try Communicator.node(2, of: cluster) }
        #expect(throws: CollectiveError.self) { try Communicator.rail(8, of: cluster) }
    }

    @Test("split by color and key orders groups by color and members by (key, old rank)")
    func splitColorKey() throws {
        let world = try Communicator.world(of: try Cluster.singleNode(in: makeSimulation()))
        let groups = try world.split(colors: [1, 0, 1, nil, 0, 1, 0, 1], keys: [5, 0, 5, 0, 9, 1, 2, 0])
        #expect(groups.map { $0.ranks.map(\.index) } == [[1, 6, 4], [7, 5, 0, 2]])
        #expect(throws: CollectiveError.self) { try world.split(colors: [0, 1]) }
    }

    @Test("per-node and per-rail sub-groups of a two-node world")
    func perNodeAndRail() throws {
        let world = try Communicator.world(of: try Cluster.railOptimized(nodeCount: 2, in: makeSimulation()))
        #expect(try world.splitByNode().map { $0.ranks.map(\.index) } == [Array(0..<8), Array(8..<16)])
        let rails = try world.splitByRail()
        #expect(rails.count == 8)
        #expect(rails[5].ranks.map(\.index) == [5, 13])
    }

    @Test("bad rank lists are refused, naming the GPU")
    func badRanks() throws {
        let cluster = try Cluster.singleNode(in: makeSimulation())
        #expect(
            throws: CollectiveError.invalidArgument(
                name: "communicator rank", value: "gpu2", reason: "appears more than once")
        ) {
            try Communicator(cluster: cluster, ranks: [GPUID(2), GPUID(0), GPUID(2)])
        }
        #expect(
            throws: CollectiveError.invalidArgument(
                name: "communicator rank", value: "gpu8", reason: "the cluster has gpu0...gpu7")
        ) {
            try Communicator(cluster: cluster, ranks: [GPUID(8)])
        }
        #expect(throws: CollectiveError.self) { try Communicator(cluster: cluster, ranks: []) }
    }
}
