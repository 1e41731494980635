import SimCore
import Tensors
import Testing

@testable import Hardware

/// A link that goes down under a message on its way: the chunks that have not started on it are resent from
/// the source along the detour a new message would take; with no detour they wait (see `FaultTests`).
///
/// Two nodes, spine routing with two spines: gpu0 -> gpu9 takes comm.out, gpu0.nic.out, leaf0.up1,
/// spine1.down1, leaf1.down1; the detour around leaf0.up1 crosses spine0 instead. H800 rates: comm egress
/// 210 GB/s, NIC and leaf-spine 50 GB/s, 1.4 µs per NIC-side hop and 0.45 µs per spine-side hop.
@Suite("Links that go down under messages in flight")
struct InFlightRerouteTests {
    let commRate = 20 * GPUSpec.h800.bytesPerSecondPerSM

    @Test("one chunk on its way to a link that goes down: resent at once over the other spine, closed form")
    func singleChunkResent() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        try cluster.inject(.linkDown(link: "leaf0.up1"), from: .start + .microseconds(1))
        let bytes = 65_536
        let arrival = try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: bytes)])[0]
        // The chunk left comm.out at c and holds gpu0's NIC until c + n; at 1 µs it has not reached leaf0.up1
        // (c + n + 1.4 µs), so the source sends it again: comm.out until 1 µs + c, then the NIC once it is free
        // (c + n), then four more hops: c + 2n + 1.4 µs + 2 (s + 0.45 µs) + n + 1.4 µs.
        let c = chunkNs(bytes, commRate)
        let n = chunkNs(bytes, 50e9)
        #expect(arrival == c + 2 * n + 1_400 + 2 * (n + 450) + n + 1_400)
        let dropped = try cluster.link(named: "leaf0.up1")
        #expect(
            cluster.simulation.inspect(dropped) { ($0.chunksIn, $0.droppedChunks, $0.droppedBytes) } == (1, 1, bytes))
        #expect(try cluster.stats("leaf0.up1").bytes == 0)
        #expect(try cluster.stats("leaf0.up0").bytes == bytes)
        // The NIC carried the chunk twice: the original (dropped further on) and the resend.
        #expect(try cluster.stats("gpu0.nic.out").bytes == 2 * bytes)
        let conservation = cluster.checkConservation()
        #expect(conservation.resentChunkCount == 1)
        #expect(conservation.description.contains("1 chunk(s) resent around down links"))
    }

    @Test("mid-message: the chunk on the wire and those before it go on, the other three are resent")
    func midMessageSplit() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        // 4 chunks of 160 kB: chunk 0 reaches leaf0.up1 at 762 + 3200 + 1400 = 5362 ns and crosses it until
        // 8562 ns; at 6 µs the link goes down for good with chunk 0 on the wire and chunks 1-3 still coming.
        try cluster.inject(.linkDown(link: "leaf0.up1"), from: .start + .microseconds(6))
        let healthy = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        let uninterrupted = try healthy.arrivalTimes([TestSend(from: 0, to: 9, bytes: 640_000)])[0]
        let arrival = try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: 640_000)])[0]
        #expect(try cluster.stats("leaf0.up1").bytes == 160_000)
        #expect(try cluster.stats("spine1.down1").bytes == 160_000)
        #expect(try cluster.stats("leaf0.up0").bytes == 480_000)
        #expect(try cluster.stats("leaf1.down1").bytes == 640_000)
        let link = try cluster.link(named: "leaf0.up1")
        #expect(cluster.simulation.inspect(link) { ($0.droppedChunks, $0.droppedBytes) } == (3, 480_000))
        // The resend leaves at 6 µs behind the original's chunks still crossing comm.out and the NIC.
        #expect(arrival > uninterrupted + 6_000 - 5_362)
        #expect(cluster.checkConservation().resentChunkCount == 3)
    }

    @Test("the detour's link goes down too: resent a second time (into node 1 through gpu8), delivered once")
    func resentTwice() throws {
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: makeSimulation())
        try cluster.inject(.linkDown(link: "leaf0.up1"), from: .start + .microseconds(1))
        try cluster.inject(.linkDown(link: "leaf0.up0"), from: .start + .microseconds(2))
        // arrivalTimes checks the run finishes, every message is delivered exactly once and conservation holds.
        _ = try cluster.arrivalTimes([TestSend(from: 0, to: 9, bytes: 65_536)])
        #expect(cluster.checkConservation().resentChunkCount == 2)
        // Both of leaf0's spine ports are down: the shortest way left stays on rail 0 (leaf0.down1) to gpu8,
        // which forwards over NVLink; gpu0's NIC carried the chunk three times.
        #expect(
            try cluster.route(from: GPUID(0), to: GPUID(9)).linkNames == [
                "gpu0.comm.out", "gpu0.nic.out", "leaf0.down1", "gpu8.nvlink.out", "node1.nvswitch.port1.out",
            ])
        #expect(try cluster.stats("node1.nvswitch.port1.out").bytes == 65_536)
        #expect(try cluster.stats("leaf1.down1").bytes == 0)
        #expect(try cluster.stats("gpu0.nic.out").bytes == 3 * 65_536)
        let leaf0 = try ["leaf0.up0", "leaf0.up1"].map { name in
            cluster.simulation.inspect(try cluster.link(named: name)) { $0.droppedChunks }
        }
        #expect(leaf0 == [1, 1])
    }

    @Test("no detour for the rest (the source's comm.out): the chunks wait and the run stops blocked")
    func noDetourWaits() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: simulation)
        try cluster.inject(.linkDown(link: "gpu0.comm.out"), from: .start + .nanoseconds(100))
        let message = try phantomMessage(bytes: 640_000)
        let source = cluster.gpus[0]
        simulation.spawn(name: "sender") { try await source.send(message, to: GPUID(9), tag: 1) }
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected a blocked run")
            return
        }
        #expect(report.notes == ["link gpu0.comm.out is down and holds 3 chunk(s) of 1 message(s): gpu0->gpu9 tag 1"])
        #expect(cluster.checkConservation().resentChunkCount == 0)
        #expect(cluster.checkConservation().holds)
    }
}

/// A seeded swarm of links going down under random traffic: nothing is lost or duplicated, whether the run
/// finishes on detours and resends or stops blocked; once the faults clear, every message arrives once.
@Suite("Link-down swarms under traffic")
struct LinkDownSwarmTests {
    @Test("40 seeds: 48 messages on 2 nodes, 3 links down mid-run (some for good): conserved, then all delivered")
    func swarm() throws {
        var seedsWithResends = 0
        for seed in UInt64(0)..<40 {
            var random = SplitMix64(seed: seed)
            let simulation = makeSimulation(seed: seed, storesTraceEvents: false)
            let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: simulation)
            // Any link but a comm egress (which has no detour, tested on its own).
            let candidates = cluster.links.map(\.name).filter { !$0.hasSuffix("comm.out") }
            for _ in 0..<3 {
                let name = candidates[Int(random.next() % UInt64(candidates.count))]
                let start = SimInstant.start + .nanoseconds(Int64(random.next() % 20_000))
                let end = random.next() % 2 == 0 ? nil : start + .nanoseconds(Int64(1 + random.next() % 30_000))
                try cluster.inject(.linkDown(link: name), from: start, until: end)
            }
            let clock = simulation.clock
            let delivered = Collector<Int>(in: simulation)
            for index in 0..<48 {
                let (from, to) = (index % 16, Int(random.next() % 15))
                let destination = to >= from ? to + 1 : to
                let (source, target) = (cluster.gpus[from], cluster.gpus[destination])
                let startNs = Int64(random.next() % 10_000)
                let message = try phantomMessage(bytes: 4 * (1 + Int(random.next() % 100_000)))
                simulation.spawn(name: "send\(index)") {
                    try await clock.sleep(until: .start + .nanoseconds(startNs))
                    try await source.send(message, to: target.id, tag: index)
                }
                simulation.spawn(name: "receive\(index)") {
                    let tensor = try await target.receive(from: source.id, tag: index)
                    await delivered.set(index, tensor.byteCount)
                }
            }
            let first = simulation.run()
            let during = cluster.checkConservation()
            #expect(during.holds, "seed \(seed): \(during)")
            if case .blocked = first {} else { #expect(first == .finished, "seed \(seed): \(first)") }
            cluster.clearFaults()
            #expect(simulation.run() == .finished, "seed \(seed)")
            let after = cluster.checkConservation()
            #expect(after.holds && after.sentCount == 48 && after.deliveredCount == 48, "seed \(seed): \(after)")
            #expect(simulation.inspect(delivered) { $0.values.count } == 48, "seed \(seed)")
            if after.resentChunkCount > 0 { seedsWithResends += 1 }
        }
        // The swarm does catch messages in flight (measured: 26 of the 40 seeds resend chunks).
        #expect(seedsWithResends >= 10, "\(seedsWithResends) seeds resent chunks")
    }
}
