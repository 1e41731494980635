import Collectives
import Hardware
import SimCore
import Tensors

/// A simulation whose executor traps on any foreign enqueue, as every test wants.
func makeSimulation(storesTraceEvents: Bool = false) -> Simulation {
    let simulation = Simulation(seed: 0, storesTraceEvents: storesTraceEvents)
    simulation.executor.trapsOnForeignEnqueue = true
    return simulation
}

/// A communicator of the first `size` GPUs of a fresh single H800 node.
func nodeCommunicator(size: Int) throws -> Communicator {
    let cluster = try Cluster.singleNode(in: makeSimulation())
    return try Communicator(cluster: cluster, ranks: (0..<size).map(GPUID.init))
}

/// Rank `rank`'s test input of `count` small integers (sums stay exact in any order).
func testValues(rank: Int, count: Int) -> [Float] {
    (0..<count).map { Float(($0 * 5 + rank * 11) % 23 - 11) }
}

/// Real fp32 inputs of `counts[r]` elements for each rank.
func testInputs(_ counts: [Int]) throws -> [Tensor] {
    try counts.indices.map { try Tensor(shape: [counts[$0]], values: testValues(rank: $0, count: counts[$0])) }
}

/// The element-wise sum of `rankCount` ranks' test values.
func expectedSum(rankCount: Int, count: Int) -> [Float] {
    (0..<rankCount).reduce([Float](repeating: 0, count: count)) { sum, rank in
        zip(sum, testValues(rank: rank, count: count)).map(+)
    }
}

/// Every rank's output values.
func scalars(_ outputs: [Tensor]) throws -> [[Float]] { try outputs.map { try $0.scalars() } }

/// The prefix offsets of `counts`: offsets[i] = counts[0] + … + counts[i-1].
func offsets(_ counts: [Int]) -> [Int] { counts.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1) } }
