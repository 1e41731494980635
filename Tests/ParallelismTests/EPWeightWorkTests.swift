import Hardware
import Testing

@testable import Parallelism

/// An EP layer's W work by precision: one launched kernel when it is all one precision (the old `W experts`
/// kernel), else the first precision's kernel launched and the others fused stages of it.
@Suite struct EPWeightWorkTests {
    @Test func onePrecisionIsOneKernel() {
        var work = EPWeightWork(3e9, at: .bf16)
        work.add(1e9, at: .bf16)
        let kernels = work.kernels(name: "W experts")
        #expect(kernels == [Kernel(name: "W experts", flops: 4e9, hbmBytes: 0)])
        #expect(EPWeightWork().kernels(name: "W").isEmpty)
    }

    @Test func mixedPrecisionsAreStagesOfOneLaunch() {
        // FP8 routed and shared experts, the router in BF16 (a real run): the FP8 rate for the experts only.
        let work = EPWeightWork(6e9, at: .fp8) + EPWeightWork(2e9, at: .fp8) + EPWeightWork(1e8, at: .bf16)
        #expect(work.total == 8.1e9 && work[.fp8] == 8e9 && work[.bf16] == 1e8)
        let kernels = work.kernels(name: "W experts")
        #expect(kernels.map(\.precision) == [.bf16, .fp8])
        #expect(kernels.map(\.launched) == [true, false])
        #expect(kernels.map(\.flops) == [1e8, 8e9])
        // On 112 H800 SMs: 1e8 / (112 · 989e12 / 132) + 8e9 / (112 · 1979e12 / 132) + 4 µs of launch.
        let spec = GPUSpec.h800
        let expected = (1e8 / (112 * 989e12 / 132) + 8e9 / (112 * 1979e12 / 132)) * 1e9 + 4_000
        let duration = OpKernels.duration(of: kernels, on: spec, smCount: 112).nanoseconds
        #expect(abs(Double(duration) - expected) <= 2)
    }
}
