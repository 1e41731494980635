import Hardware
import SimCore
import Testing

/// Arrival times of uncontended messages against the store-and-forward closed form.
///
/// H800 defaults: comm egress 20 SMs x 10.5 GB/s = 210 GB/s, NVLink 160 GB/s with 1.65 µs per hop, NIC and
/// leaf-spine links 50 GB/s with 1.4 µs (NIC side) and 0.45 µs (spine side) per hop; 4 chunks per message (`coarseChunks`).
@Suite("Uncontended transfer times")
struct TransferTimeTests {
    let commRate = 20 * GPUSpec.h800.bytesPerSecondPerSM

    @Test("NVLink inside a node: 3.3 µs + bytes / 160 GB/s + one chunk on the comm and first NVLink hop")
    func nvlinkClosedForm() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        let bytes = 640_000
        let chunk = bytes / 4
        #expect(
            try cluster.route(from: GPUID(0), to: GPUID(3)).linkNames == [
                "gpu0.comm.out", "gpu0.nvlink.out", "node0.nvswitch.port3.out",
            ])
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(chunk, commRate), 1_000, 1_000], latencyNs: [0, 1_650, 1_650])
        #expect(expected == 3_300 + 4_000 + 762 + 1_000)
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: bytes)]) == [expected])
    }

    @Test("default chunking: 64 MiB over NVLink in 128 chunks of 512 KiB, fill under 1.5 % of the transfer")
    func defaultChunkingKeepsFillSmall() throws {
        let cluster = try Cluster.singleNode(in: makeSimulation())
        let bytes = 64 * 1_048_576
        let chunk = bytes / 128
        let nvlinkChunkNs = chunkNs(chunk, 160e9)
        let expected = storeAndForwardNs(
            chunks: 128, chunkNs: [chunkNs(chunk, commRate), nvlinkChunkNs, nvlinkChunkNs],
            latencyNs: [0, 1_650, 1_650])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: bytes)]) == [expected])
        let ideal = 3_300 + Int64((Double(bytes) / 160e9 * 1e9).rounded())
        #expect(Double(expected - ideal) / Double(ideal) < 0.015)
    }

    @Test("1 GiB over NVLink: 1024 chunks of 1 MiB, within 0.5 % of latency + bytes / 160 GB/s")
    func gibibyteOverNVLink() throws {
        let cluster = try Cluster.singleNode(in: makeSimulation(storesTraceEvents: false))
        let bytes = 1 << 30
        let chunk = bytes / 1_024
        let nvlinkChunkNs = chunkNs(chunk, 160e9)
        let expected = storeAndForwardNs(
            chunks: 1_024, chunkNs: [chunkNs(chunk, commRate), nvlinkChunkNs, nvlinkChunkNs],
            latencyNs: [0, 1_650, 1_650])
        let measured = try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: bytes)])[0]
        #expect(measured == expected)
        let ideal = 3_300 + Double(bytes) / 160e9 * 1e9
        #expect((Double(measured) - ideal) / ideal < 0.005, "\(measured) ns vs ideal \(ideal) ns")
    }

    @Test("1 GiB through an IB spine: 1024 chunks of 1 MiB, within 0.5 % of latency + bytes / 50 GB/s")
    func gibibyteThroughSpine() throws {
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 2), in: makeSimulation(storesTraceEvents: false))
        let bytes = 1 << 30
        let chunk = bytes / 1_024
        let ibChunkNs = chunkNs(chunk, 50e9)
        let expected = storeAndForwardNs(
            chunks: 1_024, chunkNs: [chunkNs(chunk, commRate), ibChunkNs, ibChunkNs, ibChunkNs, ibChunkNs],
            latencyNs: [0, 1_400, 450, 450, 1_400])
        let measured = try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: bytes)])[0]
        #expect(measured == expected)
        let ideal = 3_700 + Double(bytes) / 50e9 * 1e9
        #expect((Double(measured) - ideal) / ideal < 0.005, "\(measured) ns vs ideal \(ideal) ns")
    }

    @Test("IB same rail: NIC, leaf, NIC; 2.8 µs + bytes / 50 GB/s + fill")
    func sameRailClosedForm() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let bytes = 400_000
        #expect(
            try cluster.route(from: GPUID(2), to: GPUID(10)).linkNames == [
                "gpu2.comm.out", "gpu2.nic.out", "leaf2.down1",
            ])
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(100_000, commRate), 2_000, 2_000], latencyNs: [0, 1_400, 1_400])
        #expect(try cluster.arrivalTimes([TestSend(from: 2, to: 10, bytes: bytes)]) == [expected])
    }

    @Test("IB across rails through a spine: 3.7 µs + bytes / 50 GB/s + fill; the path prints every link")
    func spineClosedForm() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let route = try cluster.route(from: GPUID(0), to: GPUID(9))
        #expect(
            route.description
                == "gpu0 -> gpu0.comm.out -> gpu0.nic.out -> leaf0.up1 -> spine1.down1 -> leaf1.down1 -> gpu9 (spine)")
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(100_000, commRate), 2_000, 2_000, 2_000, 2_000],
            latencyNs: [0, 1_400, 450, 450, 1_400])
        #expect(expected == 3_700 + 8_000 + 477 + 3 * 2_000)
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: 400_000)]) == [expected])
    }

    @Test("PXN: NVLink to the same-rail GPU of the source node, then its NIC")
    func pxnClosedForm() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2, routing: .pxn), in: makeSimulation())
        let route = try cluster.route(from: GPUID(0), to: GPUID(9))
        #expect(route.kind == .pxn)
        #expect(
            route.linkNames == [
                "gpu0.comm.out", "gpu0.nvlink.out", "node0.nvswitch.port1.out", "gpu1.nic.out", "leaf1.down1",
            ])
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(100_000, commRate), 625, 625, 2_000, 2_000],
            latencyNs: [0, 1_650, 1_650, 1_400, 1_400])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: 400_000)]) == [expected])
    }

    @Test("a message to itself arrives at once; a small message is one chunk")
    func localAndSingleChunk() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        #expect(try cluster.route(from: GPUID(5), to: GPUID(5)).kind == .local)
        let small = 1_600
        let expected = storeAndForwardNs(
            chunks: 1, chunkNs: [chunkNs(small, commRate), 10, 10], latencyNs: [0, 1_650, 1_650])
        #expect(
            try cluster.arrivalTimes([TestSend(from: 5, to: 5, bytes: 4_000), TestSend(from: 5, to: 6, bytes: small)])
                == [0, expected])
    }

    @Test("comm-SM cap: with 4 communication SMs the comm egress (42 GB/s), not NVLink, is the bottleneck")
    func commSMCap() throws {
        var spec = ClusterSpec.coarseChunks(nodeCount: 1)
        spec.commSMCount = 4
        let cluster = try Cluster(spec, in: makeSimulation())
        let bytes = 672_000
        let smRate = 4 * GPUSpec.h800.bytesPerSecondPerSM
        #expect(smRate == 42e9)
        let expected = storeAndForwardNs(chunks: 4, chunkNs: [4_000, 1_050, 1_050], latencyNs: [0, 1_650, 1_650])
        #expect(expected == 3_300 + 16_000 + 2 * 1_050)
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 1, bytes: bytes)]) == [expected])
        #expect(try cluster.stats("gpu0.comm.out").busyTime == .nanoseconds(16_000))
    }

    @Test("re-reserving SMs at run time changes the comm egress rate and the compute partition")
    func reserveCommSMs() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let gpu = cluster.gpus[0]
        simulation.spawn(name: "reserve") { try await gpu.reserveCommSMs(4) }
        #expect(simulation.run() == .finished)
        #expect(simulation.inspect(gpu.compute) { $0.smCount } == 128)
        #expect(simulation.inspect(gpu.commOut) { $0.bytesPerSecond } == 42e9)
        let expected = storeAndForwardNs(chunks: 4, chunkNs: [4_000, 1_050, 1_050], latencyNs: [0, 1_650, 1_650])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 1, bytes: 672_000)]) == [expected])
        simulation.spawn(name: "bad") { try await gpu.reserveCommSMs(132) }
        guard case .processFailed(_, let error) = simulation.run() else {
            Issue.record("reserving every SM for communication was accepted")
            return
        }
        #expect(error == "invalid gpu0 commSMCount 132: must be in 1...131")
    }
}
