import Collectives
import Hardware
import SimCore
import Tensors
import Testing

@Suite("Collectives on the fabric")
struct FabricUseTests {
    @Test("hierarchical all-to-all across 2 nodes: one IB message per target node, each byte over IB once")
    func hierarchicalCrossesIBOncePerNode() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation(storesTraceEvents: true))
        let world = try Communicator.world(of: cluster)
        let bytes = 16 << 20
        let result = try CollectiveRunner.run(.allToAll, sizeBytes: bytes, on: world, algorithm: .hierarchical)
        #expect(result.time > .zero)
        let remoteBytesPerGPU = bytes / 2
        for gpu in 0..<16 {
            let nic = try cluster.linkReport(named: "gpu\(gpu).nic.out").stats
            #expect(nic.bytes == remoteBytesPerGPU, "gpu\(gpu)")
        }
        let ibSends = ibSendBytes(cluster)
        #expect(ibSends.count == 16, "one IB message per GPU to the one other node")
        #expect(ibSends.allSatisfy { $0.bytes == remoteBytesPerGPU })
        let reports = cluster.linkReports()
        let leafDown = reports.filter { $0.name.hasPrefix("leaf") && $0.name.contains(".down") }
        #expect(leafDown.reduce(0) { $0 + $1.stats.bytes } == 16 * remoteBytesPerGPU)
        #expect(
            reports.filter { $0.name.contains(".up") || $0.name.hasPrefix("spine") }.allSatisfy { $0.stats.bytes == 0 })
    }

    @Test("the pairwise all-to-all sends its piece for each remote GPU separately, across rails via the spines")
    func pairwiseCrossesIBPerGPU() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation(storesTraceEvents: true))
        _ = try CollectiveRunner.run(.allToAll, sizeBytes: 16 << 20, on: try Communicator.world(of: cluster))
        #expect(try cluster.linkReport(named: "gpu0.nic.out").stats.bytes == 8 << 20)
        // 16 GPUs x 8 remote GPUs, each piece of 1 MiB sent as 4 slices of 256 KiB.
        let ibSends = ibSendBytes(cluster)
        #expect(ibSends.count == 16 * 8 * 4)
        #expect(ibSends.filter { $0.gpu == "gpu0" }.map(\.bytes) == Array(repeating: 256 << 10, count: 32))
        #expect(cluster.linkReports().filter { $0.name.hasPrefix("spine") }.reduce(0) { $0 + $1.stats.bytes } > 0)
    }

    @Test(
        "the same collective twice: same trace hash, bit-identical outputs",
        arguments: [
            CollectiveKind.allReduce, .allToAll,
        ])
    func determinism(kind: CollectiveKind) throws {
        func once() throws -> (hash: UInt64, bits: [[UInt32]]) {
            let simulation = makeSimulation(storesTraceEvents: true)
            let world = try Communicator.world(of: try Cluster.railOptimized(nodeCount: 2, in: simulation))
            let result = try CollectiveRunner.run(
                kind, sizeBytes: 40_004, on: world, algorithm: kind == .allToAll ? .hierarchical : nil, dtype: .fp32,
                op: .average, real: true)
            return (simulation.trace.hash, try result.outputs.map { try $0.scalars().map(\.bitPattern) })
        }
        let first = try once()
        let second = try once()
        #expect(first.hash == second.hash)
        #expect(first.bits == second.bits)
        #expect(first.bits.count == 16 && first.bits.allSatisfy { !$0.isEmpty })
    }

    @Test("random Float inputs averaged over 5 ranks: bit-identical twice, and equal to a direct average")
    func randomValuesAreReducedDeterministically() throws {
        func once() throws -> [[Float]] {
            let simulation = makeSimulation(storesTraceEvents: false)
            let communicator = try Communicator(
                cluster: try Cluster.singleNode(in: simulation), ranks: (0..<5).map { GPUID($0) })
            let plan = try CollectiveRunner.plan(
                .allReduce, elementCount: 1_003, on: communicator, dtype: .fp32, op: .average)
            let outcome = try CollectiveRunner(communicator: communicator).run(plan, inputs: try Self.randomInputs())
            return try outcome.outputs.map { try $0.scalars() }
        }
        let first = try once()
        #expect(first.map { $0.map(\.bitPattern) } == (try once()).map { $0.map(\.bitPattern) })
        let inputs = try Self.randomInputs().map { try $0.scalars() }
        for output in first {
            for index in [0, 501, 1_002] {
                let direct = inputs.reduce(0) { $0 + Double($1[index]) } / 5
                #expect(abs(Double(output[index]) - direct) < 1e-6)
            }
        }
    }

    /// Five seeded inputs of 1003 Floats with fraction bits, so the summation order shows in the last bits.
    static func randomInputs() throws -> [Tensor] {
        var random = SplitMix64(seed: 42)
        return try (0..<5).map { _ in
            try Tensor(shape: [1_003], values: (0..<1_003).map { _ in random.nextUnitFloat() * 2 - 1 }, dtype: .fp32)
        }
    }

    @Test("bad input is refused with the value named")
    func errors() throws {
        let communicator = try nodeCommunicator(size: 4)
        #expect(
            throws: CollectiveError.invalidArgument(
                name: "all-reduce size", value: "1001 bytes", reason: "must be a positive multiple of 2 (bf16)")
        ) {
            try CollectiveRunner.run(.allReduce, sizeBytes: 1_001, on: communicator)
        }
        #expect(
            throws: CollectiveError.unsupportedAlgorithm(
                kind: "all-reduce", algorithm: "pairwise", reason: "all-reduce supports ring or hierarchical")
        ) {
            try CollectiveRunner.run(.allReduce, sizeBytes: 1_024, on: communicator, algorithm: .pairwise)
        }
        #expect(
            throws: CollectiveError.unsupportedAlgorithm(
                kind: "broadcast", algorithm: "hierarchical", reason: "broadcast supports ring")
        ) {
            try CollectiveRunner.run(.broadcast, sizeBytes: 1_024, on: communicator, algorithm: .hierarchical)
        }
        #expect(throws: CollectiveError.invalidArgument(name: "root", value: "4", reason: "must be a rank in 0..<4")) {
            try CollectiveRunner.run(.broadcast, sizeBytes: 64, on: communicator, root: 4)
        }
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
        let uneven = try Communicator(cluster: cluster, ranks: [GPUID(0), GPUID(1), GPUID(8)])
        #expect(
            throws: CollectiveError.unsupportedAlgorithm(
                kind: "all-to-all", algorithm: "hierarchical",
                reason: "node 1 has no rank with in-node index 1 (rank 1 has it)")
        ) {
            try CollectiveRunner.run(.allToAll, sizeBytes: 1_024, on: uneven, algorithm: .hierarchical)
        }
        let busy = try nodeCommunicator(size: 2)
        let waiting = try busy.gpu(rank: 0)
        busy.cluster.simulation.spawn(name: "waiter") { _ = try await waiting.receive(from: GPUID(1), tag: 99) }
        #expect(
            throws: CollectiveError.invalidArgument(
                name: "live process count", value: "1",
                reason: "run drives the whole simulation; from a simulated process call execute instead")
        ) { try CollectiveRunner.run(.allReduce, sizeBytes: 64, on: busy) }
        let plan = try CollectivePlan.allReduce(rankCount: 4, elementCount: 8)
        #expect(
            throws: CollectiveError.invalidArgument(
                name: "ring all-reduce rank 3 input", value: "Tensor([7], fp32)", reason: "needs 8 elements")
        ) {
            try CollectiveRunner(communicator: communicator).run(plan, inputs: try testInputs([8, 8, 8, 7]))
        }
        let broken = CollectivePlan(
            name: "broken",
            programs: [
                .init(
                    blockElementCounts: [4], inputBlocks: [0], outputBlocks: [],
                    actions: [.send(blocks: [0], toRank: 1, tag: 0)]),
                .init(
                    blockElementCounts: [3], inputBlocks: [], outputBlocks: [0],
                    actions: [.receive(blocks: [0], fromRank: 0, tag: 0, combine: .store)]),
            ])
        #expect(
            throws: CollectiveError.invalidArgument(
                name: "broken message 0", value: "sent [0, 1, 0, 4], received [0, 1, 0, 3]",
                reason: "sends and receives must pair up as [source, target, tag, elements]")
        ) { try broken.validate() }
    }

    /// The sender and bytes of every traced send whose path leaves through a NIC.
    private func ibSendBytes(_ cluster: Cluster) -> [(gpu: String, bytes: Int)] {
        cluster.simulation.trace.events.compactMap { event in
            guard event.lane == "sends",
                event.args.contains(where: { $0.0 == "path" && $0.1.description.contains(".nic.out") }),
                case .int(let bytes)? = event.args.first(where: { $0.0 == "bytes" })?.1
            else { return nil }
            return (event.actor, Int(bytes))
        }
    }
}
