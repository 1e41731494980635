import Hardware
import MoEModel
import SimCore
import Testing

@testable import Parallelism

/// FP8 GEMMs in the cost model: the kernel time is the closed form at the FP8 rate, the attention core at BF16.
@Suite struct ComputePrecisionTests {
    let h800 = GPUSpec.h800
    /// Compute SMs with DeepSeek-V3's 20 communication SMs set aside.
    let sms = 132 - 20

    /// `flops / (sms · peak / 132)` in whole nanoseconds.
    private func nanoseconds(_ flops: Double, peak: Double) -> Int64 {
        Int64((flops / (Double(sms) * peak / 132) * 1e9).rounded())
    }

    @Test func fp8GEMMRunsAtTheFP8Rate() {
        // A DeepSeek-V3 expert's Linear-1 on 4096 rows: 2 · 4096 · 7168 · 2048 FLOPs.
        let flops = 2.0 * 4096 * 7168 * 2048
        let fp8 = Kernel.gemm(m: 4096, n: 2048, k: 7168, bytesPerElement: 1, precision: .fp8)
        let bf16 = Kernel.gemm(m: 4096, n: 2048, k: 7168, bytesPerElement: 2, precision: .bf16)
        // Within 1 ns: the closed form here rounds once, in a different association order.
        #expect(abs(h800.duration(of: fp8, onSMs: sms).nanoseconds - nanoseconds(flops, peak: 1979e12) - 4_000) <= 1)
        #expect(abs(h800.duration(of: bf16, onSMs: sms).nanoseconds - nanoseconds(flops, peak: 989e12) - 4_000) <= 1)
        #expect(ComputePrecision(linear: .fp8e4m3, attentionCore: .bf16) == .deepSeekV3)
        #expect(ComputePrecision(linear: .bf16, attentionCore: .fp32) == .bf16)
        #expect(ComputePrecision.deepSeekV3.higherPrecisionKinds == [.head, .gate])
    }

    @Test func attentionSplitsIntoFP8ProjectionsAndABF16Core() throws {
        let costs = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        let attention = try #require(costs.layerOps(3).first { $0.kind == .attention })
        let core = Double(attention.forwardAttentionCoreFLOPs)
        let projections = Double(attention.forwardFLOPs) - core
        let kernels = OpKernels.kernels(.forward, [attention], name: "attn", precision: .deepSeekV3)
        #expect(kernels.map(\.precision) == [.fp8, .bf16])
        #expect(kernels.map(\.launched) == [true, false])
        #expect(kernels[1].hbmBytes == 0)
        let expected = nanoseconds(projections, peak: 1979e12) + nanoseconds(core, peak: 989e12) + 4_000
        #expect(abs(OpKernels.duration(of: kernels, on: h800, smCount: sms).nanoseconds - expected) <= 2)
        // All BF16: one kernel, the same as OpKernels.forward.
        let plain = OpKernels.kernels(.forward, [attention], name: "attn", precision: .bf16)
        #expect(plain == [OpKernels.forward([attention], name: "attn")])
        // B carries the core's 2×; W has none.
        let backward = OpKernels.kernels(.backwardInput, [attention], name: "attn", precision: .deepSeekV3)
        #expect(backward.last?.flops == 2 * core)
        #expect(OpKernels.kernels(.backwardWeight, [attention], name: "attn", precision: .deepSeekV3).count == 1)
        #expect(OpKernels.kernels(.backward, [attention], name: "attn", precision: .deepSeekV3).count == 2)
    }

    @Test func headAndGateStayInBF16AsInTheReport() throws {
        let costs = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        let head = costs.stageOps(layers: 60..<61).filter { $0.kind == .head }
        let kernels = OpKernels.kernels(.forward, head, name: "head", precision: .deepSeekV3)
        #expect(kernels.count == 1 && kernels[0].precision == .bf16 && kernels[0].launched)
        // A layer's gate (BF16) with its experts (FP8): the gate's FLOPs join the BF16 stage.
        let moe = costs.layerOps(3).filter { $0.kind == .gate || $0.kind == .routedExperts }
        let mixed = OpKernels.kernels(.backwardWeight, moe, name: "moe", precision: .deepSeekV3)
        let gateFLOPs = Double(2 * 4096 * 7168 * 256)
        #expect(mixed.map(\.precision) == [.fp8, .bf16] && mixed[1].flops == gateFLOPs)
    }

    @Test func expertsRunWhollyInFP8() throws {
        let costs = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        let experts = try #require(costs.layerOps(3).first { $0.kind == .routedExperts })
        let kernels = OpKernels.kernels(.forward, [experts], name: "experts", precision: .deepSeekV3)
        #expect(kernels.count == 1 && kernels[0].precision == .fp8)
        // 4096 tokens × top-8 rows through three 7168 × 2048 maps.
        let flops = 2.0 * 4096 * 8 * 3 * 7168 * 2048
        #expect(kernels[0].flops == flops)
        let duration = OpKernels.duration(of: kernels, on: h800, smCount: sms).nanoseconds
        let memory = Int64((Double(kernels[0].hbmBytes) / 3.35e12 * 1e9).rounded())
        #expect(abs(duration - max(nanoseconds(flops, peak: 1979e12), memory) - 4_000) <= 1)
    }
}
