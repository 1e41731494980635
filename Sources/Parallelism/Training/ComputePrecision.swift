import Hardware
import MoEModel
import Tensors

/// The tensor-core precision of each class of FLOPs: the linear layers' GEMMs (attention projections, dense
/// FFN, experts) and what stays in higher precision (the attention core — Q·Kᵀ and P·V — and the ops of
/// `higherPrecisionKinds`).
///
/// DeepSeek-V3 (§3.3.1, mixed-precision framework) runs the linear GEMMs in FP8 (E4M3, fine-grained scales) and
/// keeps "the embedding module, the output head, MoE gating modules, normalization operators, and attention
/// operators" in BF16/FP32: `.deepSeekV3`. Rates come from `GPUSpec.flopsPerSecondPerSM(_:)`: 1979 vs 989 dense
/// TFLOP/s on an H800.
public struct ComputePrecision: Sendable, Equatable {
    /// The precision of linear-layer GEMMs.
    public var linear: Kernel.Precision
    /// The precision of the attention core and of `higherPrecisionKinds`.
    public var attentionCore: Kernel.Precision
    /// Op kinds whose GEMMs run at `attentionCore`'s precision, not `linear`'s.
    public var higherPrecisionKinds: [OpKind]

    /// A precision per FLOP class.
    public init(linear: Kernel.Precision, attentionCore: Kernel.Precision, higherPrecisionKinds: [OpKind] = []) {
        self.linear = linear
        self.attentionCore = attentionCore
        self.higherPrecisionKinds = higherPrecisionKinds
    }

    /// The precisions of GEMM inputs in `linear` and `attentionCore` (FP8 runs at the FP8 rate, every other
    /// format at the BF16 rate); with FP8 linear layers the head and the gate stay in higher precision, as in
    /// DeepSeek-V3.
    public init(linear: DType, attentionCore: DType) {
        let low = Self.precision(of: linear)
        let high = Self.precision(of: attentionCore)
        self.init(linear: low, attentionCore: high, higherPrecisionKinds: low == high ? [] : [.head, .gate])
    }

    /// Everything in BF16 (what `OpKernels.forward` and its siblings charge).
    public static let bf16 = ComputePrecision(linear: Kernel.Precision.bf16, attentionCore: Kernel.Precision.bf16)
    /// DeepSeek-V3's FP8 training: FP8 linear GEMMs; attention core, output head and gate in BF16.
    public static let deepSeekV3 = ComputePrecision(
        linear: Kernel.Precision.fp8, attentionCore: Kernel.Precision.bf16, higherPrecisionKinds: [.head, .gate])

    /// The tensor-core rate class of a GEMM whose inputs are `dtype`.
    public static func precision(of dtype: DType) -> Kernel.Precision {
        dtype == .fp8e4m3 ? .fp8 : .bf16
    }
}
