import Collectives
import Hardware
import MoEModel
import SimCore
import Testing

@testable import Parallelism

/// DeepGEMM's published H800 FP8 figures in the EP layer's kernels: grouped expert GEMMs, shared experts and the
/// W work, only where a figure is published.
@Suite struct PublishedGEMMRatesTests {
    /// An EP8 layer of DeepSeek-V3's expert shapes (hidden 7168, expert width 2048, one shared expert) with 32
    /// routed experts on one H800 node.
    private func layer(_ precision: ExpertPrecision, _ rates: GEMMRates) throws -> ExpertParallelLayer {
        let simulation = Simulation(seed: 0, storesTraceEvents: false)
        let cluster = try Cluster.singleNode(in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<8).map(GPUID.init))
        var config = MoEConfig.deepSeekV3
        config.layerCount = 1
        config.routedExpertCount = 32
        config.expertGroupCount = 1
        config.expertGroupLimit = nil
        var options = ExpertParallelLayer.Options()
        options.expertPrecision = precision
        options.sharedExpertPrecision = precision
        options.gemmRates = rates
        return try ExpertParallelLayer(
            layer: MoELayer(prefix: "moe", config: config), hiddenSize: 7168, expertWidth: 2048,
            communicator: communicator, options: options)
    }

    @Test("FP8 expert GEMMs on an H800 run at DeepGEMM's grouped figures; B at the forward figure of its weight")
    func groupedExpertGEMMs() throws {
        let fp8 = try layer(.fp8, .published)
        let rows = 4 * 8192
        // Linear-1 (gate + up, N 4096, K 7168) 1346 TFLOP/s; Linear-2 (N 7168, K 2048) 1214.
        #expect(fp8.firstGEMM(.forward, rows: rows, experts: 4).efficiency == 1346e12 / 1979e12)
        #expect(fp8.secondGEMM(.forward, rows: rows, experts: 4).efficiency == 1214e12 / 1979e12)
        #expect(fp8.firstGEMM(.backward, rows: rows, experts: 4).efficiency == 1214e12 / 1979e12)
        #expect(fp8.secondGEMM(.backward, rows: rows, experts: 4).efficiency == 1346e12 / 1979e12)
        // Fewer rows per expert than DeepGEMM measured: the datasheet peak.
        #expect(fp8.firstGEMM(.forward, rows: 4 * 1024, experts: 4).efficiency == 1)
        // A shared expert on 4096 tokens: normal GEMMs 1265 (gate + up) and 1168 (down), weighted 2 : 1.
        let shared = 3 / (2 / (1265 / 1979.0) + 1 / (1168 / 1979.0))
        #expect(abs(fp8.sharedKernel(.forward, rows: 4096).efficiency - shared) < 1e-12)
        #expect(fp8.sharedKernel(.forward, rows: 2048).efficiency == 1)
        // BF16 experts, or gemm-rates=peak: no published figure is applied.
        #expect(try layer(.bf16, .published).firstGEMM(.forward, rows: rows, experts: 4).efficiency == 1)
        #expect(try layer(.fp8, .peak).firstGEMM(.forward, rows: rows, experts: 4).efficiency == 1)
        #expect(try layer(.fp8, .peak).sharedKernel(.forward, rows: 4096).efficiency == 1)
    }

    @Test("the W work's kernel runs at its FLOP-weighted efficiency Σ f / Σ (f / e)")
    func weightWorkEfficiency() throws {
        var work = EPWeightWork(100, at: .fp8, efficiency: 0.5)
        work.add(100, at: .fp8)
        work.add(50, at: .bf16)
        let kernels = work.kernels(name: "W")
        #expect(kernels.map(\.precision) == [.bf16, .fp8])
        #expect(kernels.map(\.flops) == [50, 200])
        #expect(kernels.map(\.efficiency) == [1, 200.0 / 300])
        #expect((work + work).kernels(name: "W").map(\.efficiency) == [1, 200.0 / 300])
    }
}
