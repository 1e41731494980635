import Hardware
import SimCore
import Testing

/// Flows that share an egress link split its bandwidth round-robin; flows on disjoint links do not interact.
///
/// Messages are 1.6 MB in 4 chunks of 400 kB: 2.5 µs per chunk on a 160 GB/s NVLink hop, 10 µs per message.
@Suite("Contention on shared links")
struct ContentionTests {
    let bytes = 1_600_000
    let chunkNsOnNVLink: Int64 = 2_500
    let messageNsOnNVLink: Int64 = 10_000

    func aloneNs(from source: Int, to destination: Int) throws -> Int64 {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        return try cluster.arrivalTimes([TestSend(from: source, to: destination, bytes: bytes)])[0]
    }

    @Test("two flows on one egress link each take twice as long, within one chunk")
    func twoFlowsShareEgress() throws {
        let alone = try aloneNs(from: 0, to: 1)
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        // Both leave gpu0 through gpu0.comm.out and gpu0.nvlink.out.
        let times = try cluster.arrivalTimes([
            TestSend(from: 0, to: 1, bytes: bytes), TestSend(from: 0, to: 2, bytes: bytes),
        ])
        // Fixed part (latency and fill) plus twice the bandwidth term.
        let shared = alone + messageNsOnNVLink
        for time in times {
            #expect(time <= shared && time >= shared - chunkNsOnNVLink, "arrived at \(time) ns, alone \(alone) ns")
        }
        #expect(times.max() == shared)
        #expect(try cluster.stats("gpu0.nvlink.out").bytes == 2 * bytes)
    }

    @Test("7-to-1 incast on an NVSwitch port takes 7x the bandwidth term")
    func incastSevenToOne() throws {
        let alone = try aloneNs(from: 1, to: 0)
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        let times = try cluster.arrivalTimes((1...7).map { TestSend(from: $0, to: 0, bytes: bytes) })
        let incast = alone + 6 * messageNsOnNVLink
        #expect(times.max() == incast)
        // Round-robin: the seven last chunks leave the port one after another in the final round.
        #expect(times.sorted() == (0..<7).map { incast - Int64(6 - $0) * chunkNsOnNVLink })
        let port = try cluster.stats("node0.nvswitch.port0.out")
        #expect(port.bytes == 7 * bytes)
        #expect(port.busyTime == .nanoseconds(7 * messageNsOnNVLink))
    }

    @Test("flows on disjoint links do not slow each other")
    func disjointFlows() throws {
        let alone = try aloneNs(from: 0, to: 1)
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let times = try cluster.arrivalTimes([
            TestSend(from: 0, to: 1, bytes: bytes), TestSend(from: 2, to: 3, bytes: bytes),
            TestSend(from: 9, to: 8, bytes: bytes), TestSend(from: 4, to: 12, bytes: 400_000),
        ])
        #expect(Array(times.prefix(3)) == [alone, alone, alone])
        let sameRail = storeAndForwardNs(
            chunks: 4, chunkNs: [chunkNs(100_000, 20 * GPUSpec.h800.bytesPerSecondPerSM), 2_000, 2_000],
            latencyNs: [0, 1_400, 1_400])
        #expect(times[3] == sameRail)
    }

    @Test("a chunk that reaches an idle port before the one it waits for is sent first, on time")
    func earlierArrivalOvertakesIdleWait() throws {
        // Into leaf0.down1: A from gpu0.nic.out (1.4 µs wire), B from spine1.down0 (0.45 µs wire). A reaches the
        // leaf's queue first (at 1600 ns, ready at 3000 ns), B later (2110 ns) but ready earlier (2560 ns).
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let times = try cluster.arrivalTimes([
            TestSend(from: 1, to: 8, bytes: 4_000), TestSend(from: 0, to: 8, bytes: 4_000, startNs: 1_500),
        ])
        // Uncontended: comm 20 ns, then 80 ns per IB hop plus its wire.
        let aloneA: Int64 = 20 + (80 + 1_400) * 2
        let aloneB: Int64 = 20 + (80 + 1_400) * 2 + (80 + 450) * 2
        #expect(times == [aloneB, 1_500 + aloneA])
        let simulation = cluster.simulation
        let port = simulation.trace.events.filter { $0.actor == "leaf0" && $0.lane == "down1" }
        #expect(port.map(\.start.nanosecondsSinceStart) == [2_560, 3_000])
    }

    @Test("a GPU completes a message whose last chunk lands before one it was already waiting for")
    func earlierDeliveryOvertakesWait() throws {
        // gpu9 -> gpu8 on NVLink lands at 3370 ns (last chunk on its wire from 1720 ns); gpu0 -> gpu8 on IB, sent
        // at 200 ns, is on its last wire from 1780 ns and lands at 3180 ns.
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let times = try cluster.arrivalTimes([
            TestSend(from: 9, to: 8, bytes: 4_000), TestSend(from: 0, to: 8, bytes: 4_000, startNs: 200),
        ])
        let nvlinkArrival: Int64 = 20 + (25 + 1_650) * 2
        let ibArrival: Int64 = 200 + 20 + (80 + 1_400) * 2
        #expect(times == [nvlinkArrival, ibArrival])
    }

    @Test("link statistics: bytes, busy time and utilisation from the start")
    func linkStatistics() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: makeSimulation())
        let arrival = try cluster.arrivalTimes([TestSend(from: 0, to: 1, bytes: bytes)])[0]
        let port = try cluster.stats("node0.nvswitch.port1.out")
        #expect(port.bytes == bytes)
        #expect(port.chunkCount == 4)
        #expect(port.busyTime == .nanoseconds(messageNsOnNVLink))
        let lastChunkEnd = arrival - 1_650
        #expect(port.lastBusyEnd == SimInstant(nanosecondsSinceStart: lastChunkEnd))
        #expect(port.utilisation(to: SimInstant(nanosecondsSinceStart: arrival)) == 10_000 / Double(arrival))
        #expect(try cluster.stats("gpu3.nvlink.out") == LinkStats())
        #expect(throws: HardwareError.unknownLink(name: "leaf9.down0")) { try cluster.link(named: "leaf9.down0") }
        let busiest = cluster.busiestLinks(4)
        #expect(
            busiest.map(\.name) == ["gpu0.comm.out", "gpu0.nvlink.out", "node0.nvswitch.port1.out", "gpu0.nic.out"])
        #expect(busiest.map(\.stats.bytes) == [bytes, bytes, bytes, 0])
        #expect(cluster.linkReports().count == cluster.links.count)
        let report = try cluster.linkReport(named: "node0.nvswitch.port1.out")
        #expect(report.stats == port && report.bytesPerSecond == 160e9)
        #expect(
            report.utilisation(to: SimInstant(nanosecondsSinceStart: lastChunkEnd)) == 10_000 / Double(lastChunkEnd))
    }

    @Test("every chunk is a span on the lane of the port that sent it, with its bytes and endpoints")
    func chunkSpans() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        _ = try cluster.arrivalTimes([TestSend(from: 2, to: 5, bytes: bytes)])
        let spans = simulation.trace.events.filter { $0.actor == "node0.nvswitch" }
        #expect(spans.count == 4)
        #expect(spans.allSatisfy { $0.lane == "port5.out" && $0.name == "chunk" && $0.duration == .nanoseconds(2_500) })
        #expect(spans[0].args.map(\.0) == ["bytes", "src", "dst"])
        #expect(spans[0].args.map(\.1) == [.int(400_000), .int(2), .int(5)])
        let lanes = simulation.trace.events.map { "\($0.actor)/\($0.lane)" }
        #expect(Set(lanes) == ["gpu2/sends", "gpu2/comm.out", "gpu2/nvlink.out", "node0.nvswitch/port5.out"])
        let sends = simulation.trace.events.filter { $0.lane == "sends" }
        #expect(sends.count == 1 && sends[0].kind == .instant)
        #expect(
            sends[0].args.first { $0.0 == "path" }?.1
                == .string("gpu2 -> gpu2.comm.out -> gpu2.nvlink.out -> node0.nvswitch.port5.out -> gpu5 (nvlink)"))
    }
}
