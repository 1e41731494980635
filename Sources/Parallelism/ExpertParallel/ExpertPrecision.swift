import Hardware

/// The format of the routed experts' weights, for the GEMM rate and the bytes each GEMM reads.
public enum ExpertPrecision: String, Sendable, CaseIterable {
    /// BF16 weights and activations at the dense BF16 rate.
    case bf16
    /// FP8 weights and activations at the dense FP8 rate.
    case fp8
    /// FP4 weights with FP8 activations: the dense FP8 rate (Blackwell's mixed f8f6f4 MMA runs at FP8 speed),
    /// half a byte per weight, scales ignored.
    case fp4

    /// The tensor-core precision the kernel is charged at.
    var kernelPrecision: Kernel.Precision { self == .bf16 ? .bf16 : .fp8 }
    /// Bytes of `count` weights.
    func weightBytes(_ count: Int) -> Int {
        switch self {
        case .bf16: 2 * count
        case .fp8: count
        case .fp4: (count + 1) / 2
        }
    }
    /// Bytes per activation element a GEMM reads.
    var activationBytes: Int { self == .bf16 ? 2 : 1 }
}
