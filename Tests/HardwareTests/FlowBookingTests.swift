import Hardware
import SimCore
import Tensors
import Testing

/// Bulk flows (`Cluster.bookFlow`) against their closed form: each link of the route carries its booked flows
/// first come, first served; a flow arrives when its slowest link has carried it, plus the route's latencies.
@Suite("Bulk flows")
struct FlowBookingTests {
    /// One flow of a test: from, to, bytes.
    typealias Flow = (from: Int, to: Int, bytes: Int)

    /// Books `flows` in order from one process at t = 0; their arrivals (ns), or the error's text.
    static func book(_ flows: [Flow], on cluster: Cluster) throws -> [Int64] {
        let collector = Collector<Int64>(in: cluster.simulation)
        cluster.simulation.spawn(name: "booker") {
            for (index, flow) in flows.enumerated() {
                let arrival = try cluster.bookFlow(
                    from: GPUID(flow.from), to: GPUID(flow.to), bytes: flow.bytes, startNs: 0)
                await collector.set(index, arrival)
            }
        }
        let reason = cluster.simulation.run()
        guard reason == .finished else { throw TestFailure("simulation stopped with \(reason)") }
        let values = cluster.simulation.inspect(collector) { $0.values }
        return flows.indices.map { values[$0] ?? -1 }
    }

    @Test("flows queue per link: shared ports serialise, disjoint ones run at once, IB and spine routes add up")
    func closedForm() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
        let spec = cluster.spec
        let bytes = 8_000_000
        func ns(_ count: Int, _ bytesPerSecond: Double) -> Int64 {
            Int64(count) * Int64((Double(bytes) * 1e9 / bytesPerSecond).rounded(.up))
        }
        let comm = Double(spec.commSMCount) * spec.gpu.bytesPerSecondPerSM
        let (nvlink, nic) = (spec.gpu.nvlinkBytesPerSecond, spec.gpu.nicBytesPerSecond)
        // The message's last chunk (8 MB in 16 chunks of 500 kB) crosses every hop but the slowest after it.
        func fill(_ rates: [Double]) -> Int64 {
            let times = rates.map { Int64((500_000 * 1e9 / $0).rounded(.up)) }
            return times.reduce(0, +) - (times.max() ?? 0)
        }
        let nvlinkLatency = 2 * spec.nvlinkHopLatency.nanoseconds + fill([comm, nvlink, nvlink])
        let ibLatency = 2 * spec.nicHopLatency.nanoseconds + fill([comm, nic, nic])
        let arrivals = try Self.book(
            [(0, 1, bytes), (0, 2, bytes), (3, 1, bytes), (0, 8, bytes), (4, 4, bytes), (0, 9, bytes)], on: cluster)
        // gpu0 → gpu1 alone; then gpu0 → gpu2 behind it on gpu0's comm and NVLink ports.
        #expect(arrivals[0] == max(ns(1, comm), ns(1, nvlink)) + nvlinkLatency)
        #expect(arrivals[1] == max(ns(2, comm), ns(2, nvlink)) + nvlinkLatency)
        // gpu3 → gpu1 has its own out ports and queues only at gpu1's NVSwitch port.
        #expect(arrivals[2] == max(ns(1, comm), ns(2, nvlink)) + nvlinkLatency)
        // gpu0 → gpu8 (same rail, other node) is third on gpu0's comm port, first on the NIC and the leaf port.
        #expect(arrivals[3] == max(ns(3, comm), ns(1, nic)) + ibLatency)
        // A GPU to itself crosses no wire.
        #expect(arrivals[4] == 0)
        // gpu0 → gpu9 (other rail): the spine route, fourth on gpu0's comm port, second on its NIC.
        let spineRate = spec.effectiveSpineLinkBytesPerSecond
        let spine =
            2 * spec.spineHopLatency.nanoseconds + 2 * spec.nicHopLatency.nanoseconds
            + fill([comm, nic, spineRate, spineRate, nic])
        #expect(arrivals[5] == max(ns(4, comm), ns(2, nic), ns(1, spineRate)) + spine)
        let commPort = try cluster.linkReport(named: "gpu0.comm.out")
        #expect(commPort.flowStats.bytes == 4 * bytes)
        #expect(commPort.stats.bytes == 0)
        #expect(commPort.bytes == 4 * bytes)
        #expect(commPort.utilisation(to: SimInstant(nanosecondsSinceStart: ns(4, comm))) == 1)
        #expect(try cluster.flowDurationNs(from: GPUID(0), to: GPUID(8), bytes: bytes) == ns(1, nic) + ibLatency)
        #expect(cluster.checkConservation().holds)
    }

    @Test("a lone flow arrives when the same chunked message would (to the ns rounding of its chunks)")
    func loneFlowMatchesMessage() throws {
        for (to, bytes) in [(3, 8_000_000), (8, 8_000_000), (9, 3_000_000), (3, 100_000)] {
            let flow = try Self.book(
                [(0, to, bytes)], on: try Cluster.railOptimized(nodeCount: 2, in: makeSimulation()))
            let message = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
                .arrivalTimes([TestSend(from: 0, to: to, bytes: bytes)])
            let chunks = Int64((bytes + 524_287) / 524_288)
            #expect(abs(flow[0] - message[0]) <= 5 * chunks, "gpu0 -> gpu\(to), \(bytes) B: \(flow) vs \(message)")
        }
    }

    @Test("phantom-flows: phantom messages arrive as flows (no chunks on the links), real tensors still in chunks")
    func phantomMessagesAsFlows() throws {
        var spec = ClusterSpec(gpu: .h800, nodeCount: 2)
        spec.phantomMessagesAsFlows = true
        let sends = [
            TestSend(from: 0, to: 3, bytes: 8_000_000), TestSend(from: 1, to: 3, bytes: 8_000_000),
            TestSend(from: 0, to: 9, bytes: 2_000_000),
        ]
        let flows = try Cluster(spec, in: makeSimulation())
        let arrivals = try flows.arrivalTimes(sends)
        let expected = try Self.book(
            sends.map { ($0.from, $0.to, $0.bytes) }, on: try Cluster(spec, in: makeSimulation()))
        #expect(arrivals == expected)
        #expect(try flows.stats("gpu0.comm.out").chunkCount == 0)
        #expect(try flows.linkReport(named: "gpu0.comm.out").flowStats.bytes == 10_000_000)
        // The same messages in chunks share links round-robin: other times, every chunk on the links.
        let chunked = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
        #expect(try chunked.arrivalTimes(sends) != arrivals)
        #expect(try chunked.stats("gpu0.comm.out").bytes == 10_000_000)
        // A real tensor travels in chunks even with phantom-flows on.
        let real = try Cluster(spec, in: makeSimulation())
        let message = try Tensor(shape: [250_000], values: Array(repeating: 1, count: 250_000))
        let (source, destination) = (real.gpus[0], real.gpus[3])
        real.simulation.spawn(name: "sender") { try await source.send(message, to: destination.id, tag: 1) }
        real.simulation.spawn(name: "receiver") { _ = try await destination.receive(from: source.id, tag: 1) }
        #expect(real.simulation.run() == .finished)
        #expect(try real.stats("gpu0.comm.out").chunkCount == 2)
        #expect(real.checkConservation().holds)
    }

    @Test("phantom-flows: a link going down under a booked flow leaves it as booked; conservation holds")
    func linkDownUnderBookedFlow() throws {
        var spec = ClusterSpec(gpu: .h800, nodeCount: 2)
        spec.phantomMessagesAsFlows = true
        let expected = try Cluster(spec, in: makeSimulation()).arrivalTimes([TestSend(from: 0, to: 3, bytes: 8_000_000)]
        )
        let cluster = try Cluster(spec, in: makeSimulation())
        _ = try cluster.inject(.linkDown(link: "gpu0.nvlink.out"), from: SimInstant(nanosecondsSinceStart: 1_000))
        // arrivalTimes checks that conservation holds and that the message was delivered exactly once.
        #expect(try cluster.arrivalTimes([TestSend(from: 0, to: 3, bytes: 8_000_000)]) == expected)
    }

    @Test("a flow whose route crosses a down link is refused, naming the link")
    func downLinkRefused() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 1, in: makeSimulation())
        try cluster.inject(.linkDown(link: "gpu0.comm.out"))
        let collector = Collector<String>(in: cluster.simulation)
        cluster.simulation.spawn(name: "booker") {
            do {
                _ = try cluster.bookFlow(from: GPUID(0), to: GPUID(3), bytes: 1000, startNs: 0)
            } catch {
                await collector.set(0, "\(error)")
            }
        }
        #expect(cluster.simulation.run() == .finished)
        let message = try #require(cluster.simulation.inspect(collector) { $0.values[0] })
        #expect(message.contains("gpu0.comm.out") && message.contains("down"), "\(message)")
    }

    @Test("a path looked up once books as the flow's endpoints do: standard and spine paths, then a link down")
    func pathsBookAsEndpoints() throws {
        // Inside a node, same rail across nodes (standard paths), across rails (the route), twice each: the
        // second flows queue behind the first.
        let flows: [Flow] = [(0, 3, 8_000_000), (0, 8, 6_000_000), (1, 10, 3_000_000), (0, 3, 2_000_000), (0, 8, 700)]
        let byEndpoints = try Self.book(flows, on: try Cluster.railOptimized(nodeCount: 2, in: makeSimulation()))
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: makeSimulation())
        let collector = Collector<Int64>(in: cluster.simulation)
        let paths = flows.map { cluster.flowPath(from: GPUID($0.from), to: GPUID($0.to)) }
        cluster.simulation.spawn(name: "booker") {
            for (index, flow) in flows.enumerated() {
                let arrival = try cluster.bookFlow(on: paths[index], bytes: flow.bytes, startNs: 0)
                #expect(
                    try cluster.flowDurationNs(on: paths[index], bytes: flow.bytes)
                        == cluster.flowDurationNs(from: GPUID(flow.from), to: GPUID(flow.to), bytes: flow.bytes))
                await collector.set(index, arrival)
            }
        }
        #expect(cluster.simulation.run() == .finished)
        let values = cluster.simulation.inspect(collector) { $0.values }
        #expect(flows.indices.map { values[$0] ?? -1 } == byEndpoints)
        #expect(byEndpoints[3] > byEndpoints[0], "the second flow 0->3 queues behind the first")
        // A path looked up while every link is up is refused once one of its links is down.
        try cluster.inject(.linkDown(link: "gpu0.comm.out"))
        let refusal = Collector<String>(in: cluster.simulation)
        cluster.simulation.spawn(name: "late booker") {
            do {
                _ = try cluster.bookFlow(on: paths[0], bytes: 1000, startNs: 0)
            } catch {
                await refusal.set(0, "\(error)")
            }
        }
        #expect(cluster.simulation.run() == .finished)
        let message = try #require(cluster.simulation.inspect(refusal) { $0.values[0] })
        #expect(message.contains("gpu0.comm.out"), "\(message)")
    }
}
