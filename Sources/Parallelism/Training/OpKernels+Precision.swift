import Hardware
import MoEModel
import SimCore

/// Cost-model ops as kernels at a chosen precision per FLOP class (FP8 linear GEMMs, BF16 attention core).
extension OpKernels {
    /// Which part of an op's work a kernel does.
    public enum Pass: Sendable, CaseIterable {
        /// F.
        case forward
        /// B: input gradients.
        case backwardInput
        /// W: weight gradients.
        case backwardWeight
        /// B and W as one kernel.
        case backward
    }

    /// The kernels of `pass` over `ops` under `precision`, to run in order on one partition.
    ///
    /// One kernel when every FLOP runs at one precision (then equal to `forward(_:name:)` and its siblings but
    /// for the precision). Otherwise two: the linear GEMMs at `precision.linear`, carrying every HBM byte and
    /// the launch overhead, then the higher-precision FLOPs (attention core, head, gate) at
    /// `precision.attentionCore` as a stage of the same fused launch (`launched = false`, no bytes). Duration:
    /// `Σ max(flops_i / rate_i, bytes_i / HBM) + launch`.
    public static func kernels(
        _ pass: Pass, _ ops: [OpCost], name: String, precision: ComputePrecision, efficiency: Double = 1
    ) -> [Kernel] {
        var base: Kernel
        switch pass {
        case .forward: base = forward(ops, name: name, efficiency: efficiency)
        case .backwardInput: base = backwardInput(ops, name: name, efficiency: efficiency)
        case .backwardWeight: base = backwardWeight(ops, name: name, efficiency: efficiency)
        case .backward: base = backward(ops, name: name, efficiency: efficiency)
        }
        let high = ops.reduce(0) { $0 + higherPrecisionFLOPs($1, pass, precision) }
        if high == 0 || precision.linear == precision.attentionCore {
            base.precision = precision.linear
            return [base]
        }
        if base.flops == Double(high) {
            base.precision = precision.attentionCore
            return [base]
        }
        base.flops -= Double(high)
        base.precision = precision.linear
        var core = Kernel(
            name: base.name + " core", flops: Double(high), hbmBytes: 0, precision: precision.attentionCore,
            efficiency: efficiency)
        core.launched = false
        return [base, core]
    }

    /// How long `kernels` take one after another on `smCount` SMs of a `spec` GPU (the closed form the compute
    /// partition charges).
    public static func duration(of kernels: [Kernel], on spec: GPUSpec, smCount: Int) -> SimDuration {
        kernels.reduce(SimDuration.zero) { $0 + spec.duration(of: $1, onSMs: smCount) }
    }

    /// The FLOPs of `op`'s `pass` that run at the higher precision: its attention core, or all of them for a
    /// kind kept in higher precision.
    private static func higherPrecisionFLOPs(_ op: OpCost, _ pass: Pass, _ precision: ComputePrecision) -> Int {
        let kept = precision.higherPrecisionKinds.contains(op.kind)
        switch pass {
        case .forward: return kept ? op.forwardFLOPs : op.forwardAttentionCoreFLOPs
        case .backwardInput: return kept ? op.backwardInputFLOPs : op.backwardInputAttentionCoreFLOPs
        case .backwardWeight: return kept ? op.backwardWeightFLOPs : 0
        case .backward:
            return kept ? op.backwardInputFLOPs + op.backwardWeightFLOPs : op.backwardInputAttentionCoreFLOPs
        }
    }
}
