import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Tensors
import Testing

@Suite("Expert-parallel layer: edges", .serialized)
struct ExpertParallelEdgeTests {
    @Test("real runs' forward outputs equal the single-device MoELayer bit for bit")
    func exactOutputs() throws {
        for (ranks, gate, limit) in [(8, GateKind.sigmoid, Int?.none), (16, .softmax, 1)] {
            let (run, _, _) = try runEP(ranks: ranks, gate: gate, nodeLimit: limit, backward: false)
            let (expected, _) = try run.layer.layer.forward(run.input, parameters: run.parameters)
            let outputs = try Tensor.concatenatingRows(run.outputs().map { try #require($0) })
            #expect(try outputs.scalars().map(\.bitPattern) == expected.scalars().map(\.bitPattern), "EP\(ranks)")
        }
    }

    @Test("EP32 on 4 nodes with node limit 2: values match and no token reaches more than 2 nodes")
    func nodeLimitTwoOfFour() throws {
        let (_, report, _) = try runEP(ranks: 32, gate: .sigmoid, nodeLimit: 2, experts: 32, backward: false)
        #expect(try #require(report.maxError) <= 1e-5)
        #expect(report.stats.allSatisfy { $0.tokenNodePairs <= 2 * 12 })
        #expect(report.stats.contains { $0.tokenNodePairs > 12 })
    }

    @Test("two runs on one simulation hold the parameters once, not twice")
    func parametersFreedBetweenRuns() throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.railOptimized(nodeCount: 2, in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<16).map(GPUID.init))
        var request = EPRunRequest(tokensPerRank: 8, hiddenSize: 128, expertWidth: 8, expertCount: 16, topK: 2)
        request.backward = true
        var expected = 0
        for index in 0..<2 {
            let run = try EPRun(request, communicator: communicator, tagBase: (1 << 42) + index * (1 << 24))
            expected = run.layer.parameterBytes()
            try run.spawn()
            #expect(simulation.run() == .finished)
        }
        let gpu = try communicator.gpu(rank: 5)
        #expect(simulation.inspect(gpu) { $0.hbm.peakBytes(.parameters) } == expected)
        #expect(simulation.inspect(gpu) { $0.hbm.currentBytes(.parameters) } == 0)
    }

    @Test("the combine time excludes the shared experts that overlap it")
    func sharedExpertsOutsideCombine() throws {
        func run(shared: Int) throws -> EPRunReport {
            try runEP(
                ranks: 8, gate: .sigmoid, tokens: 64, experts: 8, topK: 2, backward: false, real: false,
                hidden: 7168, width: 2048, shared: shared
            ).report
        }
        let (plain, shared) = (try run(shared: 0), try run(shared: 1))
        #expect(shared.combineTime == plain.combineTime)
        #expect(shared.dispatchTime == plain.dispatchTime)
        // The shared expert outlasts the combine here, so the forward ends later.
        #expect(shared.time > plain.time)
    }

    @Test("a given routing has no router task, so backward charges no router W")
    func givenRoutingWeightFLOPs() throws {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.railOptimized(nodeCount: 1, in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: [GPUID(0), GPUID(1)])
        var options = ExpertParallelLayer.Options()
        options.fp8Dispatch = false
        let (layer, parameters) = try handMadeEPLayer(
            hidden: 32, width: 8, experts: 2, shared: 1, topK: 1, communicator: communicator, options: options)
        let box = FLOPsBox(in: simulation)
        for rank in 0..<2 {
            let routing = try RoutingDecision(
                tokenCount: 4, expertCount: 2, topK: 1, experts: [0, 1, 1, 0], weights: [1, 1, 1, 1])
            simulation.spawn(name: "rank \(rank)") {
                let input = try Tensor(repeating: Float(rank + 1), shape: [4, 32])
                let forward = try await layer.forward(
                    rank: rank, input: input, parameters: parameters, tagBase: 0, routing: routing)
                let backward = try await layer.backward(
                    rank: rank, outputGradient: input, cache: forward.cache, parameters: parameters, tagBase: 0)
                await box.set(rank, backward.weightFLOPs, backward.input.weightTasks.reduce(0) { $0 + $1.flops })
            }
        }
        #expect(simulation.run() == .finished)
        let values = simulation.inspect(box) { $0.values }
        #expect(values.count == 2)
        #expect(values.allSatisfy { $0.charged == $0.tasks && $0.tasks > 0 })
    }

    @Test("the router keeps its groups as given and refuses ones that do not fit")
    func routerGroups() {
        let bad = Router(weightName: "w", expertCount: 8, topK: 2, gateKind: .sigmoid, groupCount: 4, groupLimit: 5)
        #expect(bad.groupLimit == 5)
        #expect(throws: ModelError.self) { try bad.selection() }
        let none = Router(weightName: "w", expertCount: 8, topK: 2, gateKind: .sigmoid, groupCount: 0)
        #expect(none.groupCount == 0)
        #expect(throws: ModelError.self) { try none.selection() }
        let fine = Router(weightName: "w", expertCount: 8, topK: 2, gateKind: .sigmoid, groupCount: 4, groupLimit: 2)
        #expect((try? fine.selection())?.groupLimit == 2)
    }
}

/// Per-rank charged and task W FLOPs.
actor FLOPsBox: SimulatedActor {
    nonisolated let simulation: Simulation
    var values: [(charged: Int, tasks: Int)] = []

    init(in simulation: Simulation) { self.simulation = simulation }

    func set(_ rank: Int, _ charged: Int, _ tasks: Int) { values.append((charged, tasks)) }
}
