import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Tensors
import Testing

/// One EP run of `ranks` GPUs (8 per node) in `mode`; `change` adjusts the request.
func runMode(
    _ mode: EPMode, ranks: Int, waves: Int? = nil, gpu: GPUSpec = .h800,
    _ change: (inout EPRunRequest) -> Void = { _ in }
) throws -> (run: EPRun, report: EPRunReport) {
    let simulation = Simulation(seed: 0, storesTraceEvents: false)
    simulation.executor.trapsOnForeignEnqueue = true
    let cluster = try Cluster.railOptimized(nodeCount: (ranks + 7) / 8, gpu: gpu, in: simulation)
    let communicator = try Communicator(cluster: cluster, ranks: (0..<ranks).map(GPUID.init))
    var request = EPRunRequest(tokensPerRank: 12, hiddenSize: 32, expertWidth: 8, expertCount: 32, topK: 4)
    request.sharedExpertCount = 1
    request.backward = true
    request.real = true
    request.seed = 7
    request.options.fp8Dispatch = false
    request.options.minPieceTokens = 2
    request.options.maxPiecesPerNode = 3
    request.options.mode = mode
    request.options.waves = waves
    change(&request)
    let run = try EPRun(request, communicator: communicator)
    try run.spawn()
    let reason = simulation.run()
    guard reason == .finished else { throw EPTestFailure("simulation stopped: \(reason)") }
    return (run, try run.report())
}

/// Every value of a run: outputs, input gradients, then parameter gradients in rank order.
func allValues(_ run: EPRun) throws -> [Float] {
    var values = try run.outputs().compactMap { $0 }.flatMap { try $0.scalars() }
    let (inputs, weights) = run.gradients()
    values += try inputs.compactMap { $0 }.flatMap { try $0.scalars() }
    for rank in weights { for (_, gradient) in rank { values += try gradient.scalars() } }
    return values
}

@Suite("Waved-EP: serial, comet and waved modes", .serialized)
struct WavedEPTests {
    @Test(
        "outputs and gradients are bit-identical in serial, comet and waved (EP8 on a node, EP16 on 2 nodes)",
        arguments: [(8, 4), (16, 2)])
    func bitIdentical(ranks: Int, waves: Int) throws {
        let serial = try runMode(.serial, ranks: ranks)
        let reference = try allValues(serial.run)
        #expect(try #require(serial.report.maxError) <= 1e-5)
        #expect(reference.count > 1000)
        for (mode, count) in [(EPMode.comet, Int?.none), (.waved, waves), (.waved, nil)] {
            let other = try runMode(mode, ranks: ranks, waves: count)
            #expect(try allValues(other.run) == reference, "\(mode) waves \(count ?? 0)")
        }
    }

    @Test("a wave whose experts receive no tokens, and every token on one expert, give serial's values and gradients")
    func emptyWaveAndHotExpert() throws {
        // Local experts 0 and 1 of each rank only (experts % 4 < 2): wave 2 of 2 gets nothing.
        for (topK, pick) in [(2, { (token: Int, k: Int) in 4 * ((token + 3 * k) % 8) + k }), (1, { _, _ in 5 })] {
            var results: [[Float]] = []
            for (mode, waves) in [(EPMode.serial, Int?.none), (.waved, 2), (.waved, 4), (.comet, nil)] {
                let values = try handRouted(mode: mode, waves: waves, topK: topK, pick: pick)
                results.append(values)
            }
            #expect(results.allSatisfy { $0 == results[0] }, "top-\(topK)")
            #expect(results[0].contains { $0 != 0 })
            // Outputs and input gradients (8 ranks × 6 tokens × 16 twice), then the experts' weight gradients.
            #expect(results[0].count > 2 * 8 * 6 * 16, "top-\(topK): \(results[0].count) values")
        }
    }

    /// A real EP8 forward and B of 32 experts with each token's experts from `pick(token, k)`; the outputs,
    /// the input gradients, then each rank's weight gradients in task order (its experts that got rows).
    func handRouted(mode: EPMode, waves: Int?, topK: Int, pick: @escaping (Int, Int) -> Int) throws -> [Float] {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.singleNode(in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<8).map(GPUID.init))
        let config = MoEConfig(
            vocabularySize: 2, hiddenSize: 16, layerCount: 1, headCount: 1, routedExpertCount: 32,
            sharedExpertCount: 0, topK: topK, expertWidth: 4, denseWidth: 4, denseLayerCount: 0)
        let moe = MoELayer(prefix: "moe", config: config)
        let parameters = try EPRun.parameters(moe, hidden: 16, width: 4, seed: 3)
        var options = ExpertParallelLayer.Options()
        options.fp8Dispatch = false
        options.mode = mode
        options.waves = waves
        let layer = try ExpertParallelLayer(
            layer: moe, hiddenSize: 16, expertWidth: 4, communicator: communicator, options: options)
        let outputs = OutputBox(in: simulation)
        for rank in 0..<8 {
            let slots = (0..<6).flatMap { token in (0..<topK).map { pick(token + rank, $0) } }
            let routing = try RoutingDecision(
                tokenCount: 6, expertCount: 32, topK: topK, experts: slots,
                weights: Array(repeating: 1 / Float(topK), count: slots.count))
            simulation.spawn(name: "rank \(rank)") {
                let input = try Tensor(
                    shape: [6, 16], values: (0..<96).map { Float(($0 * 7 + rank * 13) % 17) / 17 - 0.5 })
                let result = try await layer.forward(
                    rank: rank, input: input, parameters: parameters, tagBase: 0, routing: routing)
                let gradient = try Tensor(
                    shape: [6, 16], values: (0..<96).map { Float(($0 * 5 + rank * 11) % 13) / 13 - 0.5 })
                let backward = try await layer.backward(
                    rank: rank, outputGradient: gradient, cache: result.cache, parameters: parameters, tagBase: 0)
                var values = try result.output.scalars() + backward.input.inputGradient.scalars()
                for task in backward.input.weightTasks { values += try task.gradient().scalars() }
                await outputs.set(rank, values)
            }
        }
        #expect(simulation.run() == .finished)
        return simulation.inspect(outputs) { $0.values }.flatMap { $0 }
    }

    @Test("DeepGEMM's wave rule on hand-computed cases (B200, 148 SMs, EP8)")
    func heuristic() {
        // V4-Flash: 32 local experts, 2·2048/128 = 32 column blocks per expert.
        // T=1: e = 6/32 < 1: one wave. T=512: e = 96, block_m 128, 32 blocks, ceil(296/32) = 10 -> 16.
        // T=8192: e = 1536, block_m 192, 8·32 = 256 blocks, ceil(296/256) = 2. T=32768: 1024 blocks -> 1.
        let flash = [(1.0, 32), (512, 16), (8192, 2), (32768, 1)]
        for (tokens, perWave) in flash {
            let plan = WavePlan.heuristic(
                tokensPerRank: tokens, topK: 6, localExperts: 32, expertWidth: 2048, smCount: 148)
            #expect(plan.expertsPerWave == perWave, "flash T=\(tokens)")
        }
        // V4-Pro: 48 local experts, 48 column blocks. T=512: e = 64, block_m 96, 48 blocks, ceil(296/48) = 7 ->
        // 8 (divisor of 48). T=8192: e = 1024, block_m 192, 6·48 = 288 blocks, ceil(296/288) = 2.
        let pro = [(1.0, 48), (512, 8), (8192, 2), (32768, 1)]
        for (tokens, perWave) in pro {
            let plan = WavePlan.heuristic(
                tokensPerRank: tokens, topK: 6, localExperts: 48, expertWidth: 3072, smCount: 148)
            #expect(plan.expertsPerWave == perWave, "pro T=\(tokens)")
        }
        let plan = WavePlan.heuristic(tokensPerRank: 512, topK: 6, localExperts: 32, expertWidth: 2048, smCount: 148)
        #expect(plan.blockM == 128 && plan.blocksPerExpert == 32 && plan.waveCount == 2)
        #expect(
            WavePlan.blockM(forExpected: 8.5) == 16 && WavePlan.blockM(forExpected: 8.6) == 32
                && WavePlan.blockM(forExpected: 97) == 192)
    }

    @Test("FP4 rates: B200 runs FP4 × FP4 at 9 PFLOP/s (twice FP8); a GPU without FP4 tensor cores at its FP8 rate")
    func fp4Rates() {
        let launch = GPUSpec.b200.kernelLaunchOverhead
        func kernel(_ precision: Kernel.Precision) -> Kernel {
            Kernel(name: "k", flops: 9e12, hbmBytes: 0, precision: precision)
        }
        #expect(GPUSpec.b200.duration(of: kernel(.fp4), onSMs: 148) == .microseconds(1_000) + launch)
        #expect(GPUSpec.b200.duration(of: kernel(.fp8), onSMs: 148) == .microseconds(2_000) + launch)
        #expect(GPUSpec.h800.denseFP4FlopsPerSecond == 0)
        #expect(
            GPUSpec.h800.duration(of: kernel(.fp4), onSMs: 132) == GPUSpec.h800.duration(of: kernel(.fp8), onSMs: 132))
        // V4's FP4 weights × FP8 activations run at the FP8 rate; FP4 × FP4 at the FP4 rate, in the rule as well.
        let mixed = EPBalanceRule(gpu: .b200, precision: .fp4, expertWidth: 2048, internode: false)
        let fp4 = EPBalanceRule(gpu: .b200, precision: .fp4x4, expertWidth: 2048, internode: false)
        #expect(mixed.flopsPerByte == 4.5e15 / 720e9)
        #expect(fp4.flopsPerByte == 9e15 / 720e9)
    }

    @Test("bad wave settings and modes are refused naming the value")
    func badInput() throws {
        func message(_ change: @escaping (inout EPRunRequest) -> Void) -> String {
            do {
                _ = try runMode(.waved, ranks: 8, change)
                return "no error"
            } catch {
                return String(describing: error)
            }
        }
        #expect(message { $0.options.waves = 3 } == "waves = 3: must divide the 4 experts on each rank")
        #expect(message { $0.options.waves = 5 } == "waves = 5: must be in 1...4 (the experts on each rank)")
        #expect(
            message { $0.options.expertsPerWave = 3 } == "experts-per-wave = 3: must divide the 4 experts on each rank")
        #expect(
            message {
                $0.options.waves = 2
                $0.options.expertsPerWave = 2
            } == "waves = 2: give waves= or experts-per-wave=, not both")
        #expect(EPMode(rawValue: "fused") == nil)
    }
}

/// Each rank's output values.
actor OutputBox: SimulatedActor {
    nonisolated let simulation: Simulation
    var values: [[Float]] = Array(repeating: [], count: 8)
    init(in simulation: Simulation) { self.simulation = simulation }
    func set(_ rank: Int, _ output: [Float]) { values[rank] = output }
}
