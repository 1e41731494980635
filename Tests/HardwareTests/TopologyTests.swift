import Hardware
import SimCore
import Tensors
import Testing

@Suite("Topologies and determinism")
struct TopologyTests {
    @Test("builders: one node of 8, N nodes of 8 on a rail-optimised fat tree, DeepSeek-V3's 2048 H800")
    func builders() throws {
        let single = try Cluster.singleNode(in: makeSimulation())
        #expect(single.gpus.count == 8 && single.nvswitches.count == 1 && single.leaves.count == 8)
        let four = try Cluster.railOptimized(nodeCount: 4, in: makeSimulation())
        #expect(four.gpus.count == 32 && four.nics.count == 32 && four.spines.count == 4)
        // Per GPU comm.out, nvlink.out, nic.out; NVSwitch ports; leaf down and up ports; spine down ports.
        #expect(four.links.count == 3 * 32 + 32 + 8 * 4 + 8 * 4 + 4 * 8)
        #expect(
            four.links.prefix(4).map(\.name) == ["gpu0.comm.out", "gpu0.nvlink.out", "gpu0.nic.out", "gpu1.comm.out"])
        #expect(four.links.last?.name == "spine3.down7")
        #expect(four.leaves[3].downPorts.map(\.name) == ["leaf3.down0", "leaf3.down1", "leaf3.down2", "leaf3.down3"])
        #expect(four.node(of: GPUID(27)) == 3 && four.rail(of: GPUID(27)) == 3)
        let deepSeek = try Cluster.deepSeekV3(in: makeSimulation(storesTraceEvents: false))
        #expect(deepSeek.gpus.count == 2048 && deepSeek.spec.gpu == .h800 && deepSeek.spec.commSMCount == 20)
        #expect(deepSeek.nvswitches.count == 256 && deepSeek.leaves.count == 8 && deepSeek.spines.count == 256)
        #expect(deepSeek.leaves[7].downPorts.count == 256 && deepSeek.leaves[7].upPorts.count == 256)
        #expect(
            try deepSeek.route(from: GPUID(0), to: GPUID(2047)).linkNames == [
                "gpu0.comm.out", "gpu0.nic.out", "leaf0.up255", "spine255.down7", "leaf7.down255",
            ])
    }

    /// Every GPU of 2 nodes sends a real tensor of a seeded random size to every other GPU and receives from all.
    func allToAllTraceHash(seed: UInt64) throws -> (hash: UInt64, events: Int, end: SimInstant) {
        let simulation = makeSimulation(seed: seed)
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: simulation)
        var sizes = simulation.random.stream(named: "sizes")
        let count = cluster.gpus.count
        for gpu in cluster.gpus {
            let elements = (0..<count).map { _ in Int(sizes.next() % 50_000) + 1 }
            let tensors = try elements.map {
                try Tensor(shape: [$0], values: [Float](repeating: 1, count: $0), dtype: .bf16)
            }
            simulation.spawn(name: gpu.name) {
                var handles: [SendHandle] = []
                for peer in 0..<count where peer != gpu.id.index {
                    handles.append(try await gpu.startSend(tensors[peer], to: GPUID(peer), tag: 0))
                }
                for peer in 0..<count where peer != gpu.id.index {
                    _ = try await gpu.receive(from: GPUID(peer), tag: 0)
                }
                for handle in handles { try await handle.wait() }
            }
        }
        guard simulation.run() == .finished else { throw TestFailure("all-to-all did not finish") }
        return (simulation.trace.hash, simulation.trace.eventCount, simulation.now)
    }

    @Test(
        "an all-to-all across 16 GPUs on 2 nodes gives the same trace hash when repeated",
        arguments: [1, 2] as [UInt64])
    func allToAllIsDeterministic(seed: UInt64) throws {
        let first = try allToAllTraceHash(seed: seed)
        let second = try allToAllTraceHash(seed: seed)
        #expect(first.hash == second.hash)
        #expect(first.events == second.events && first.end == second.end)
        #expect(first.events > 16 * 15 * 3)
        let other = try allToAllTraceHash(seed: seed + 10)
        #expect(other.hash != first.hash)
    }
}
