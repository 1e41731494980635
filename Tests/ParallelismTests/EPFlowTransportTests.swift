import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Tensors
import Testing

/// `a2a=flows`: the flow-level all-to-all of phantom runs against the message-level layer it stands in for.
@Suite("Expert-parallel layer: flow-level all-to-all", .serialized)
struct EPFlowTransportTests {
    /// The bound docs/ARCHITECTURE.md states for one V3-shaped EP16 layer's forward and B times under flows.
    static let layerBound = 0.15

    /// A V3-shaped EP16 layer on 2 nodes (hidden 7168, 256 experts top-8, one shared expert), phantom.
    static func v3Layer(_ transport: EPTransport, mode: EPMode = .serial, tokens: Int = 1024) throws -> (
        report: EPRunReport, events: UInt64
    ) {
        let (_, report, simulation) = try runEP(
            ranks: 16, gate: .sigmoid, tokens: tokens, experts: 256, topK: 8, backward: true, real: false,
            maxPieces: 8, minPieceTokens: 128, hidden: 7168, width: 2048, shared: 1, transport: transport,
            mode: mode)
        return (report, simulation.eventCount)
    }

    @Test("same bytes per rank on every wire as the messages, far fewer events, times within the stated bound")
    func matchesMessages() throws {
        let messages = try Self.v3Layer(.messages)
        let flows = try Self.v3Layer(.flows)
        for (rank, (a, b)) in zip(messages.report.stats, flows.report.stats).enumerated() {
            #expect(a.dispatchTraffic == b.dispatchTraffic, "rank \(rank) dispatch")
            #expect(a.combineTraffic == b.combineTraffic, "rank \(rank) combine")
        }
        #expect(flows.report.ibBytes > 0 && flows.report.ibBytes == messages.report.ibBytes)
        #expect(flows.events * 10 < messages.events, "\(flows.events) events vs \(messages.events)")
        func error(_ a: SimDuration?, _ b: SimDuration?) throws -> Double {
            abs(try #require(b).seconds / (try #require(a)).seconds - 1)
        }
        let forward = try error(messages.report.time, flows.report.time)
        let backward = try error(messages.report.backwardInputTime, flows.report.backwardInputTime)
        #expect(forward <= Self.layerBound, "forward \(flows.report.time) vs \(messages.report.time)")
        #expect(backward <= Self.layerBound, "B \(String(describing: flows.report.backwardInputTime))")
        #expect(flows.report.time != messages.report.time, "flows change nothing: the test is vacuous")
    }

    @Test("waved and comet modes run on flows with the same bytes (comet starts each source's tile on arrival)")
    func overlapModes() throws {
        for mode in [EPMode.waved, .comet] {
            let messages = try Self.v3Layer(.messages, mode: mode, tokens: 512)
            let flows = try Self.v3Layer(.flows, mode: mode, tokens: 512)
            #expect(flows.report.ibBytes == messages.report.ibBytes, "\(mode)")
            #expect(flows.report.nvlinkBytes == messages.report.nvlinkBytes, "\(mode)")
            #expect(flows.events < messages.events, "\(mode)")
            #expect(abs(flows.report.time.seconds / messages.report.time.seconds - 1) <= Self.layerBound, "\(mode)")
        }
    }

    @Test("real rows always travel as messages: a2a=flows changes nothing on a real run")
    func realRunsUseMessages() throws {
        let messages = try runEP(ranks: 16, gate: .sigmoid, nodeLimit: 1, storesTraceEvents: true)
        let flows = try runEP(ranks: 16, gate: .sigmoid, nodeLimit: 1, transport: .flows, storesTraceEvents: true)
        #expect(try #require(flows.report.maxError) <= 1e-5)
        #expect(flows.simulation.trace.hash == messages.simulation.trace.hash)
    }

    @Test("a refused booking (a down link, no detour) fails the run with the link's name instead of blocking it")
    func refusedBookingFails() throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.railOptimized(nodeCount: 1, in: simulation)
        _ = try cluster.inject(.linkDown(link: "gpu0.comm.out"))
        let communicator = try Communicator(cluster: cluster, ranks: (0..<8).map(GPUID.init))
        var request = EPRunRequest(tokensPerRank: 64, hiddenSize: 128, expertWidth: 16, expertCount: 16, topK: 2)
        request.options.transport = .flows
        request.options.synchronizePhases = true
        try EPRun(request, communicator: communicator).spawn()
        guard case .processFailed(_, let error) = simulation.run() else {
            Issue.record("expected a failed process")
            return
        }
        #expect(error.contains("gpu0.comm.out"), "\(error)")
    }

    @Test("a rank that never joins a flow-level all-to-all: the run stops blocked, naming the wait")
    func missingRankBlocks() throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.railOptimized(nodeCount: 1, in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<8).map(GPUID.init))
        var options = ExpertParallelLayer.Options()
        options.transport = .flows
        let (layer, parameters) = try handMadeEPLayer(
            hidden: 128, width: 16, experts: 8, shared: 0, topK: 2, communicator: communicator, options: options)
        let input = try Tensor(phantom: [16, 128])
        for rank in 0..<7 {
            simulation.spawn(name: "rank\(rank)") {
                _ = try await layer.forward(rank: rank, input: input, parameters: parameters, tagBase: 1 << 40)
            }
        }
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected a blocked run")
            return
        }
        #expect(report.waiters.count == 7)
        #expect(report.waiters.allSatisfy { $0.waitsOn.contains("flow-level all-to-all") }, "\(report.waiters)")
    }
}
