import SimCore
import Testing

@testable import Hardware

/// Faults against their closed forms: degraded links, straggler GPUs, down links with and without a detour.
///
/// H800 rates as in `TransferTimeTests`: comm egress 210 GB/s, NVLink 160 GB/s (1.65 µs per hop), NIC and
/// leaf-spine 50 GB/s (1.4 µs NIC side, 0.45 µs spine side); 4 chunks per message (`coarseChunks`).
@Suite("Faults")
struct FaultTests {
    let commRate = 20 * GPUSpec.h800.bytesPerSecondPerSM

    @Test("a link degraded to P % slows its chunks by exactly 100/P", arguments: [100.0, 50, 25, 10])
    func degradedLink(percent: Double) throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        try cluster.inject(.linkDegraded(link: "node0.nvswitch.port3.out", fraction: percent / 100))
        let bytes = 640_000
        let chunk = bytes / 4
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(chunk, commRate), 1_000, chunkNs(chunk, 160e9 * percent / 100)],
            latencyNs: [0, 1_650, 1_650])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: bytes)]) == [expected])
        #expect(try cluster.linkState(named: "node0.nvswitch.port3.out").bandwidthFactor == percent / 100)
    }

    @Test("a slow GPU stretches its kernels by the factor and pushes its sends that much slower")
    func stragglerGPU() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let kernel = Kernel(name: "gemm", flops: 1e12, hbmBytes: 0)
        let normal = simulation.inspect(cluster.gpus[2].compute) { $0.duration(of: kernel) }
        try cluster.inject(.gpuSlow(gpu: 2, factor: 3))
        let slow = simulation.inspect(cluster.gpus[2].compute) { $0.duration(of: kernel) }
        #expect(slow.nanoseconds == 3 * normal.nanoseconds)
        let bytes = 640_000
        let chunk = bytes / 4
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(chunk, commRate / 3), 1_000, 1_000], latencyNs: [0, 1_650, 1_650])
        #expect(try cluster.arrivalTimes([TestSend(from: 2, to: 3, bytes: bytes)]) == [expected])
        cluster.clearFaults()
        #expect(simulation.inspect(cluster.gpus[2].compute) { $0.duration(of: kernel) } == normal)
    }

    @Test("a down spine link: the message takes the other spine, in the same time")
    func detourOverAnotherSpine() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let healthy = try cluster.route(from: GPUID(0), to: GPUID(9))
        try cluster.inject(.linkDown(link: "leaf0.up1"))
        let route = try cluster.route(from: GPUID(0), to: GPUID(9))
        #expect(
            route.description
                == "gpu0 -> gpu0.comm.out -> gpu0.nic.out -> leaf0.up0 -> spine0.down1 -> leaf1.down1 -> gpu9 (detour)")
        let expected = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(100_000, commRate), 2_000, 2_000, 2_000, 2_000],
            latencyNs: [0, 1_400, 450, 450, 1_400])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: 400_000)]) == [expected])
        #expect(try cluster.stats("leaf0.up1").bytes == 0)
        cluster.clearFaults()
        #expect(try cluster.route(from: GPUID(0), to: GPUID(9)).linkNames == healthy.linkNames)
    }

    @Test("a down NIC: PXN through the GPU of the same node on the destination's rail")
    func detourThroughPXN() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        try cluster.inject(.linkDown(link: "gpu0.nic.out"))
        #expect(
            try cluster.route(from: GPUID(0), to: GPUID(9)).linkNames == [
                "gpu0.comm.out", "gpu0.nvlink.out", "node0.nvswitch.port1.out", "gpu1.nic.out", "leaf1.down1",
            ])
        // Same rail: leave through gpu1's NIC (the next rail), cross a spine to rail 0's leaf.
        #expect(
            try cluster.route(from: GPUID(0), to: GPUID(8)).linkNames == [
                "gpu0.comm.out", "gpu0.nvlink.out", "node0.nvswitch.port1.out", "gpu1.nic.out", "leaf1.up1",
                "spine1.down0", "leaf0.down1",
            ])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: 400_000)]).count == 1)
    }

    @Test("NVLink down inside a node: the message goes through the IB fabric")
    func nvlinkDownUsesIB() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        try cluster.inject(.linkDown(link: "gpu0.nvlink.out"))
        #expect(
            try cluster.route(from: GPUID(0), to: GPUID(3)).linkNames == [
                "gpu0.comm.out", "gpu0.nic.out", "leaf0.up0", "spine0.down3", "leaf3.down0",
            ])
    }

    @Test("no other path: the run stops blocked, naming the down link and the waiting processes")
    func blockedAtDownLink() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        try cluster.inject(.linkDown(link: "gpu0.comm.out"))
        let message = try phantomMessage(bytes: 400_000)
        let (source, destination) = (cluster.gpus[0], cluster.gpus[3])
        simulation.spawn(name: "sender") { try await source.send(message, to: destination.id, tag: 7) }
        simulation.spawn(name: "receiver") { _ = try await destination.receive(from: source.id, tag: 7) }
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected a blocked run")
            return
        }
        #expect(report.processNames == ["sender", "receiver"])
        #expect(report.waiters.map(\.waitsOn) == ["delivery of gpu0->gpu3 tag 7", "gpu3 receive from gpu0 tag 7"])
        #expect(report.notes == ["link gpu0.comm.out is down and holds 4 chunk(s) of 1 message(s): gpu0->gpu3 tag 7"])
        let conservation = cluster.checkConservation()
        #expect(conservation.holds, "\(conservation)")
        #expect(conservation.undeliveredCount == 1)
    }

    @Test("a link down until T holds the traffic and resumes it at T: arrival = T + uncontended time")
    func recoveryAfterUntil() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        try cluster.inject(.linkDown(link: "gpu0.comm.out"), until: .start + .microseconds(50))
        let uncontended = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(160_000, commRate), 1_000, 1_000], latencyNs: [0, 1_650, 1_650])
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: 640_000)]) == [50_000 + uncontended])
        #expect(try cluster.linkState(named: "gpu0.comm.out").isUp)
    }

    @Test("a link that goes down mid-message finishes the chunk on the wire and holds the rest")
    func downMidMessage() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        // comm.out chunks of 160 KB take 762 ns each: the second starts at 762 ns, before the link goes down
        // at 1 µs, and finishes; the other two wait until 11 µs and then cross all three hops as a 2-chunk message.
        try cluster.inject(
            .linkDown(link: "gpu0.comm.out"), from: .start + .microseconds(1), until: .start + .microseconds(11))
        let arrival = try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: 640_000)])[0]
        let rest = storeAndForwardNs(
            chunks: 2, chunkNs: [chunkNs(160_000, commRate), 1_000, 1_000], latencyNs: [0, 1_650, 1_650])
        #expect(arrival == 11_000 + rest)
    }

    @Test("a fault starting later takes effect then; clear cancels the timed ones")
    func scheduledAndCleared() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        try cluster.inject(.gpuSlow(gpu: 1, factor: 2), from: .start + .microseconds(5))
        try cluster.inject(
            .linkDown(link: "gpu1.nvlink.out"), from: .start + .microseconds(5), until: .start + .seconds(1))
        #expect(cluster.faults.map(\.isActive) == [false, false])
        _ = simulation.run(until: .start + .microseconds(6))
        #expect(cluster.faults.map(\.isActive) == [true, true])
        #expect(try !cluster.linkState(named: "gpu1.nvlink.out").isUp)
        cluster.clearFaults()
        #expect(cluster.faults.isEmpty)
        #expect(simulation.run() == .finished)
        #expect(simulation.now == .start + .microseconds(6))
        #expect(try cluster.linkState(named: "gpu1.nvlink.out").isUp)
    }

    @Test("bad faults are refused, naming the value")
    func badFaults() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        #expect(throws: HardwareError.unknownLink(name: "gpu9.nic.out")) {
            try cluster.inject(.linkDown(link: "gpu9.nic.out"))
        }
        #expect(throws: HardwareError.self) { try cluster.inject(.gpuSlow(gpu: 0, factor: 0.5)) }
        #expect(throws: HardwareError.self) { try cluster.inject(.linkDegraded(link: "gpu0.nic.out", fraction: 0)) }
        #expect(throws: HardwareError.self) {
            try cluster.inject(.linkDown(link: "gpu0.nic.out"), from: .start + .seconds(2), until: .start + .seconds(1))
        }
    }
}
