import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Tensors
import Testing

/// A real EP run of `ranks` GPUs (8 per node) and its report.
func runEP(
    ranks: Int, gate: GateKind, nodeLimit: Int? = nil, tokens: Int = 12, experts: Int = 16, topK: Int = 4,
    backward: Bool = true, real: Bool = true, skew: Double = 0, maxPieces: Int = 3, minPieceTokens: Int = 2,
    seed: UInt64 = 5, hidden: Int = 32, width: Int = 8, shared: Int = 1, transport: EPTransport = .messages,
    mode: EPMode = .serial, storesTraceEvents: Bool = false
) throws -> (run: EPRun, report: EPRunReport, simulation: Simulation) {
    let simulation = Simulation(seed: 0, storesTraceEvents: storesTraceEvents)
    simulation.executor.trapsOnForeignEnqueue = true
    let nodes = (ranks + 7) / 8
    let cluster = try Cluster.railOptimized(nodeCount: nodes, in: simulation)
    let communicator = try Communicator(cluster: cluster, ranks: (0..<ranks).map(GPUID.init))
    var request = EPRunRequest(
        tokensPerRank: tokens, hiddenSize: hidden, expertWidth: width, expertCount: experts, topK: topK)
    request.nodeLimit = nodeLimit
    request.sharedExpertCount = shared
    request.gate = gate
    request.backward = backward
    request.real = real
    request.seed = seed
    request.options.skew = skew
    request.options.fp8Dispatch = hidden % 128 == 0
    request.options.maxPiecesPerNode = maxPieces
    request.options.minPieceTokens = minPieceTokens
    request.options.transport = transport
    request.options.mode = mode
    let run = try EPRun(request, communicator: communicator)
    try run.spawn()
    let reason = simulation.run()
    guard reason == .finished else { throw EPTestFailure("simulation stopped: \(reason)") }
    return (run, try run.report(), simulation)
}

struct EPTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite("Expert-parallel layer", .serialized)
struct ExpertParallelTests {
    @Test(
        "output and every gradient equal the single-device MoELayer (EP 2/4/8 on a node, EP16 on 2 nodes)",
        arguments: [
            (2, GateKind.softmax, Int?.none), (2, .sigmoid, nil), (4, .sigmoid, nil), (4, .softmax, nil),
            (8, .softmax, nil), (8, .sigmoid, nil),
            (16, .sigmoid, nil), (16, .softmax, nil), (16, .sigmoid, 1), (16, .softmax, 1),
        ])
    func matchesReference(ranks: Int, gate: GateKind, nodeLimit: Int?) throws {
        let (_, report, _) = try runEP(ranks: ranks, gate: gate, nodeLimit: nodeLimit)
        let error = try #require(report.maxError)
        #expect(error <= 1e-5, "max relative error \(error)")
        #expect(report.backwardTime != nil)
    }

    @Test("the W FLOPs a backward charges equal its W tasks' FLOPs")
    func weightFLOPs() async throws {
        let (run, _, _) = try runEP(ranks: 8, gate: .sigmoid, tokens: 6)
        #expect(try run.weightFLOPsMatchTasks())
    }

    @Test(
        "real runs are bit-identical from run to run: output, input gradient, every weight gradient",
        arguments: GateKind.allCases)
    func determinism(gate: GateKind) throws {
        let first = try runEP(ranks: 16, gate: gate, nodeLimit: 1)
        let second = try runEP(ranks: 16, gate: gate, nodeLimit: 1)
        #expect(first.report.time == second.report.time)
        #expect(first.report.backwardTime == second.report.backwardTime)
        #expect(first.simulation.eventCount == second.simulation.eventCount)
        #expect(first.report.stats.map(\.receivedRows) == second.report.stats.map(\.receivedRows))
        let bits = { (tensor: Tensor?) in (try? tensor?.scalars())?.map(\.bitPattern) }
        let outputs = { (run: EPRun) in run.outputs().map(bits) }
        #expect(outputs(first.run) == outputs(second.run))
        #expect(outputs(first.run).allSatisfy { $0?.isEmpty == false })
        let (a, b) = (first.run.gradients(), second.run.gradients())
        #expect(a.input.map(bits) == b.input.map(bits))
        #expect(a.input.allSatisfy { bits($0)?.isEmpty == false })
        // Every rank returns its weight gradients, in the same order, with the same bits.
        #expect(a.weights.allSatisfy { !$0.isEmpty })
        #expect(a.weights.map { $0.map(\.0) } == b.weights.map { $0.map(\.0) })
        #expect(a.weights.map { $0.map { bits($0.1) } } == b.weights.map { $0.map { bits($0.1) } })
        #expect(a.weights.joined().allSatisfy { bits($0.1)?.isEmpty == false })
    }

    @Test("with a node limit of 1 on 2 nodes every token reaches exactly one node")
    func nodeLimitKeepsTokensHome() throws {
        // Node limit 1: each token's experts lie in one node; DeepEP's pair count is then one per token.
        let (_, report, _) = try runEP(ranks: 16, gate: .sigmoid, nodeLimit: 1, backward: false)
        #expect(report.stats.allSatisfy { $0.tokenNodePairs == 12 })
        // What crosses IB is exactly the tokens routed to the other node (plus the 8 counts of 4 bytes).
        let row = try EPWireFormat(hiddenSize: 32, fp8Dispatch: false).dispatchBytesPerToken
        #expect(report.stats.allSatisfy { $0.dispatchTraffic.ibBytes == $0.remoteTokenNodePairs * row + 32 })
        let remote = report.stats.reduce(0) { $0 + $1.remoteTokenNodePairs }
        #expect(remote > 0 && remote < 16 * 12)
    }

    @Test("phantom runs finish at DeepEP scale shapes and skew=1 top-1 sends every token to expert 0's rank")
    func hotExpert() throws {
        let (_, report, _) = try runEP(
            ranks: 8, gate: .sigmoid, tokens: 64, topK: 1, backward: true, real: false, skew: 1)
        #expect(report.tokensMax == 64 * 8)
        #expect(report.tokensPerRank.dropFirst().allSatisfy { $0 == 0 })
        #expect(report.maxError == nil)
    }

    @Test("each GPU holds its own experts' parameters (plus shared experts and router) in HBM, BF16")
    func parameterMemory() throws {
        let (run, _, simulation) = try runEP(ranks: 16, gate: .sigmoid, backward: false, real: false)
        // 16 experts over 16 ranks: 1 routed + 1 shared expert of 3 × 32 × 8 weights, router 32 × 16, 2 bytes each.
        let expected = (2 * 3 * 32 * 8 + 32 * 16) * 2
        #expect(run.layer.parameterBytes() == expected)
        for rank in [0, 9] {
            let gpu = try run.layer.communicator.gpu(rank: rank)
            #expect(simulation.inspect(gpu) { $0.hbm.peakBytes(.parameters) } == expected)
            // Freed at the end of the rank's process, so repeated runs do not accumulate.
            #expect(simulation.inspect(gpu) { $0.hbm.currentBytes(.parameters) } == 0)
        }
    }

    @Test("IB bytes of a hand-made routing are distinct (token, remote node) pairs × FP8 bytes; a rank may get nothing")
    func handMadeRouting() throws {
        let phantom = try handMadeRun(real: false)
        let real = try handMadeRun(real: true)
        // Phantom and real runs of the same routing take exactly the same time.
        #expect(phantom.map(\.combineEnd) == real.map(\.combineEnd))
        #expect(phantom.map(\.dispatchEnd) == real.map(\.dispatchEnd))
        // DeepEP's bandwidths, from the routing: mean (token, node) pairs (own node included) and mean distinct
        // tokens received, times h (1 + 4/128) = 132 bytes (FP8) or 2 h = 256 (BF16), over the group's phase span.
        var (pairs, received) = (0, 0)
        for rank in 0..<16 {
            for token in 0..<5 { pairs += Set(Self.handMadeExperts(rank, token).map { $0 / 8 }).count }  // lookup only, never iterated
        }
        for target in 0..<16 {
            for rank in 0..<16 {
                received += (0..<5).count { Self.handMadeExperts(rank, $0).contains(target) }
            }
        }
        let seconds = { (start: [SimInstant], end: [SimInstant]) in
            Double((end.max()! - start.min()!).nanoseconds) * 1e-9
        }
        let dispatch = seconds(real.map(\.dispatchStart), real.map(\.dispatchEnd))
        let combine = seconds(real.map(\.combineStart), real.map(\.combineEnd))
        let report = EPRunReport(stats: real, wire: try EPWireFormat(hiddenSize: 128), multiNode: true)
        #expect(report.dispatchRDMABytesPerSecond == Double(pairs) / 16 * 132 / dispatch)
        #expect(report.dispatchNVLBytesPerSecond == Double(received) / 16 * 132 / dispatch)
        #expect(report.combineRDMABytesPerSecond == Double(pairs) / 16 * 256 / combine)
        #expect(report.combineNVLBytesPerSecond == Double(received) / 16 * 256 / combine)
        #expect(report.tokensPerRank.reduce(0, +) == received)
    }

    /// Token t of rank r: experts (r + t) % 16, (r + 8) % 16 and (3 t + 1) % 16, skipping rank 3's expert 3.
    static func handMadeExperts(_ rank: Int, _ token: Int) -> [Int] {
        let raw = [(rank + token) % 16, (rank + 8) % 16, (3 * token + 1) % 16]
        var chosen: [Int] = []
        for expert in raw {
            var candidate = expert == 3 ? 4 : expert
            while chosen.contains(candidate) || candidate == 3 { candidate = (candidate + 1) % 16 }
            chosen.append(candidate)
        }
        return chosen
    }

    func handMadeRun(real: Bool) throws -> [EPRankStats] {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<16).map(GPUID.init))
        var options = ExpertParallelLayer.Options()
        options.minPieceTokens = 2
        let (layer, parameters) = try handMadeEPLayer(
            hidden: 128, width: 4, experts: 16, shared: 1, topK: 3, communicator: communicator, options: options)
        let tokens = 5
        let experts = Self.handMadeExperts
        var expectedPairs = 0
        var routings: [RoutingDecision] = []
        for rank in 0..<16 {
            var slots: [Int] = []
            for token in 0..<tokens {
                let chosen = experts(rank, token)
                slots += chosen
                let nodes = Set(chosen.map { $0 / 8 })  // lookup only, never iterated
                expectedPairs += nodes.subtracting([rank / 8]).count
            }
            routings.append(
                try RoutingDecision(
                    tokenCount: tokens, expertCount: 16, topK: 3, experts: slots,
                    weights: Array(repeating: 1.0 / 3, count: slots.count)))
        }
        let stats = StatsBox(in: simulation)
        for rank in 0..<16 {
            let routing = routings[rank]
            simulation.spawn(name: "rank \(rank)") {
                let input =
                    real
                    ? try Tensor(repeating: Float(rank), shape: [tokens, 128]) : try Tensor(phantom: [tokens, 128])
                let result = try await layer.forward(
                    rank: rank, input: input, parameters: parameters, tagBase: 0, routing: routing)
                await stats.set(rank, result.stats)
            }
        }
        #expect(simulation.run() == .finished)
        let all = simulation.inspect(stats) { $0.values }.compactMap { $0 }
        #expect(all.count == 16)
        let countsIB = 16 * 8 * 4  // 8 counts of 4 bytes once to the other node
        let dispatchIB = all.reduce(0) { $0 + $1.dispatchTraffic.ibBytes }
        #expect(layer.wire.dispatchBytesPerToken == 128 + 4 + 16)
        #expect(dispatchIB == expectedPairs * 148 + countsIB)
        #expect(all.reduce(0) { $0 + $1.remoteTokenNodePairs } == expectedPairs)
        // Every IB message crosses exactly one leaf down-port.
        let combineIB = all.reduce(0) { $0 + $1.combineTraffic.ibBytes }
        #expect(combineIB == expectedPairs * 2 * 128)
        let leafBytes = cluster.links.filter { $0.name.hasPrefix("leaf") && $0.name.contains(".down") }.reduce(0) {
            $0 + simulation.inspect($1) { $0.statistics.bytes }
        }
        #expect(leafBytes == dispatchIB + combineIB)
        #expect(all[3].receivedTokens == 0 && all[3].receivedRows == 0)
        #expect(all[4].receivedRows > 0)
        return all
    }

    @Test("bad input is refused naming the value")
    func badInput() throws {
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: Simulation())
        let group = try Communicator(cluster: cluster, ranks: (0..<16).map(GPUID.init))
        func message(_ change: (inout EPRunRequest) -> Void) -> String {
            var request = EPRunRequest(tokensPerRank: 8, hiddenSize: 256, expertWidth: 8, expertCount: 32, topK: 4)
            change(&request)
            do {
                _ = try EPRun(request, communicator: group)
                return ""
            } catch {
                return String(describing: error)
            }
        }
        #expect(message { $0.expertCount = 24 }.contains("experts = 24"))
        #expect(message { $0.topK = 33 }.contains("topk = 33"))
        #expect(message { $0.nodeLimit = 3 }.contains("node-limit = 3"))
        #expect(
            message {
                $0.nodeLimit = 1; $0.topK = 17
            }.contains("topk = 17: exceeds the experts of 1 node(s) (16)"))
        #expect(
            message {
                $0.tokensPerRank = 8192; $0.expertCount = 2048
            }.contains("tokens = 8192: ranks × tokens × experts (16 × 8192 × 2048) must be at most 134217728"))
        #expect(message { $0.hiddenSize = 200 }.contains("hidden = 200"))
        #expect(message { $0.tokensPerRank = 1 << 20 }.contains("tokens = 1048576"))
        #expect(
            message {
                $0.real = true; $0.tokensPerRank = 60_000
            }.contains("tokens = 60000"))
        #expect(message { _ in }.isEmpty)
        let mixed = try Communicator(cluster: cluster, ranks: [GPUID(0), GPUID(8), GPUID(1), GPUID(9)])
        #expect(throws: ExpertParallelError.self) { try ExpertPlacement(communicator: mixed, expertCount: 8) }
    }

    @Test("node-limited routing: no token reaches more than M groups; M = all groups equals plain top-k")
    func nodeLimitedRouting() throws {
        let rule = try GroupLimitedTopK(expertCount: 32, groupCount: 8, groupLimit: 2, topK: 6)
        var generator = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let scores = (0..<32).map { _ in generator.nextUnitFloat() }
            let chosen = rule.select(scores[...])
            #expect(Set(chosen.map { $0 / 4 }).count <= 2)
            #expect(chosen.count == 6)
            let open = try GroupLimitedTopK(expertCount: 32, groupCount: 8, groupLimit: 8, topK: 6)
            let top = try Tensor(shape: [1, 32], values: scores).topK(6).indices
            #expect(open.select(scores[...]) == top)
        }
        // Hand example: groups {0,1} {2,3} {4,5}; group scores (sum of top two) 1.0, 1.6, 0.3; limit 1 → {2,3}.
        let small = try GroupLimitedTopK(expertCount: 6, groupCount: 3, groupLimit: 1, topK: 2)
        #expect(small.select([0.9, 0.1, 0.8, 0.8, 0.2, 0.1][...]) == [2, 3])
    }
}

@Suite("Expert-parallel wire bytes per hop")
struct ExpertParallelHopTests {
    @Test("EP2 on NVLink: the dispatch takes exactly one plain send of the FP8 wire bytes")
    func dispatchTimeIsOneSend() throws {
        let tokens = 64
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: [GPUID(0), GPUID(1)])
        let config = MoEConfig(
            vocabularySize: 2, hiddenSize: 7168, layerCount: 1, headCount: 1, routedExpertCount: 2,
            sharedExpertCount: 0, topK: 1, expertWidth: 64, denseWidth: 64, denseLayerCount: 0)
        let layer = try ExpertParallelLayer(
            layer: MoELayer(prefix: "moe", config: config), hiddenSize: 7168, expertWidth: 64,
            communicator: communicator)
        let stats = StatsBox(in: simulation)
        for rank in 0..<2 {
            // Every token goes to the other rank's expert.
            let routing = try RoutingDecision(
                tokenCount: tokens, expertCount: 2, topK: 1, experts: Array(repeating: 1 - rank, count: tokens),
                weights: Array(repeating: 1, count: tokens))
            simulation.spawn(name: "rank \(rank)") {
                let result = try await layer.forward(
                    rank: rank, input: try Tensor(phantom: [tokens, 7168]), parameters: ParameterSet(), tagBase: 0,
                    routing: routing)
                await stats.set(rank, result.stats)
            }
        }
        #expect(simulation.run() == .finished)
        let all = simulation.inspect(stats) { $0.values }
        let (first, second) = (try #require(all[0]), try #require(all[1]))
        let dispatch = second.dispatchEnd - first.dispatchStart
        // The same bytes as one plain send on a fresh cluster.
        let plain = Simulation(seed: 0, storesTraceEvents: false)
        let other = try Cluster.singleNode(in: plain)
        let gpu0 = other.gpus[0]
        let wire = tokens * (7168 + 4 * 56 + 16)
        plain.spawn(name: "send") {
            try await gpu0.send(try Tensor(phantom: [1]), to: GPUID(1), tag: 1, wireBytes: wire)
        }
        #expect(plain.run() == .finished)
        #expect(first.dispatchStart == second.dispatchStart)
        #expect(dispatch == plain.now - .start)
    }

    @Test("a token to two GPUs of another node crosses IB once, to the same-index GPU, which relays it twice")
    func bytesPerHop() throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<16).map(GPUID.init))
        let config = MoEConfig(
            vocabularySize: 2, hiddenSize: 7168, layerCount: 1, headCount: 1, routedExpertCount: 16,
            sharedExpertCount: 0, topK: 2, expertWidth: 64, denseWidth: 64, denseLayerCount: 0)
        let layer = try ExpertParallelLayer(
            layer: MoELayer(prefix: "moe", config: config), hiddenSize: 7168, expertWidth: 64,
            communicator: communicator)
        let tokens = 5
        for rank in 0..<16 {
            // Rank 0 sends every token to experts 9 and 10 (gpu9, gpu10); rank r > 0 to r and its pair r ^ 1.
            let experts = rank == 0 ? [9, 10] : [rank, rank ^ 1]
            let routing = try RoutingDecision(
                tokenCount: tokens, expertCount: 16, topK: 2,
                experts: Array((0..<tokens).map { _ in experts }.joined()),
                weights: Array(repeating: 0.5, count: 2 * tokens))
            simulation.spawn(name: "rank \(rank)") {
                _ = try await layer.forward(
                    rank: rank, input: try Tensor(phantom: [tokens, 7168]), parameters: ParameterSet(), tagBase: 0,
                    routing: routing)
            }
        }
        #expect(simulation.run() == .finished)
        func bytes(_ name: String) throws -> Int {
            simulation.inspect(try cluster.link(named: name)) { $0.statistics.bytes }
        }
        let (fp8, bf16, counts) = (7168 + 4 * 56 + 16, 2 * 7168, 8 * 4)
        // gpu0: its counts for node 1 once (to gpu8), then each token once over IB (to gpu8, same rail).
        #expect(try bytes("gpu0.nic.out") == counts + tokens * fp8)
        // gpu8: its counts and gpu0's relayed ones to 7 neighbours, rank 8's tokens to gpu9, rank 0's tokens relayed to gpu9 and gpu10,
        // expert 8's combine rows back to gpu9 (rank 9 routes to its pair 8).
        #expect(try bytes("gpu8.nvlink.out") == 14 * counts + tokens * fp8 + 2 * tokens * fp8 + tokens * bf16)
        // gpu8 sends the combined rows of rank 0's tokens back over IB once per token.
        #expect(try bytes("gpu8.nic.out") == counts + tokens * bf16)
        // Nothing crosses rails: no spine.
        #expect(try bytes("leaf0.up0") + bytes("leaf0.up1") == 0)
    }
}

/// Per-rank stats collected by the processes of a test.
actor StatsBox: SimulatedActor {
    nonisolated let simulation: Simulation
    var values: [EPRankStats?] = Array(repeating: nil, count: 64)

    init(in simulation: Simulation) { self.simulation = simulation }

    func set(_ rank: Int, _ stats: EPRankStats) { values[rank] = stats }
}
