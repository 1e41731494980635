import Hardware

/// The format of the routed experts' weights (and the activations their GEMMs read), for the GEMM rate and the
/// bytes each GEMM reads.
public enum ExpertPrecision: String, Sendable, CaseIterable {
    /// BF16 weights and activations at the dense BF16 rate.
    case bf16
    /// FP8 weights and activations at the dense FP8 rate.
    case fp8
    /// FP4 weights with FP8 activations (DeepSeek-V4's experts): the dense FP8 rate (Blackwell's mixed
    /// f8f6f4 MMA runs at FP8 speed), half a byte per weight, scales ignored.
    case fp4
    /// FP4 weights and FP4 activations: the dense FP4 rate (`GPUSpec.denseFP4FlopsPerSecond`; the FP8 rate
    /// on a GPU without FP4 tensor cores), half a byte per weight and per activation read.
    case fp4x4

    /// The tensor-core precision the kernel is charged at.
    var kernelPrecision: Kernel.Precision {
        switch self {
        case .bf16: .bf16
        case .fp8, .fp4: .fp8
        case .fp4x4: .fp4
        }
    }

    /// Bytes of `count` weights.
    func weightBytes(_ count: Int) -> Int {
        switch self {
        case .bf16: 2 * count
        case .fp8: count
        case .fp4, .fp4x4: (count + 1) / 2
        }
    }

    /// Bytes of `count` activation elements a GEMM reads.
    func activationBytes(_ count: Int) -> Int {
        switch self {
        case .bf16: 2 * count
        case .fp8, .fp4: count
        case .fp4x4: (count + 1) / 2
        }
    }
}
