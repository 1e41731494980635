import Hardware
import MoEModel

/// The bridge from the cost model to the GPU actors: an op's (or a group of ops') F, B and W costs as
/// `Kernel`s to run on a GPU's compute partition.
///
/// Trainers run an op's numerics (or nothing, in phantom runs) and charge its time with
/// `gpu.compute.run(OpKernels.forward(ops, name:))`; the kernel time then follows the GPU's SM count and the
/// formula of `GPUSpec.duration(of:onSMs:)`. HBM bytes: F reads the parameters and the input and writes the
/// output; B reads the parameters, the output gradient and the input, and writes the input gradient; W reads
/// the input and the output gradient and writes the weight gradient (all in the cost model's dtype).
public enum OpKernels {
    /// The forward (F) kernel of `ops` together.
    public static func forward(_ ops: [OpCost], name: String, efficiency: Double = 1) -> Kernel {
        Kernel(
            name: name + " F", flops: Double(ops.reduce(0) { $0 + $1.forwardFLOPs }),
            hbmBytes: ops.reduce(0) { $0 + $1.parameterBytes + $1.inputBytes + $1.outputBytes },
            efficiency: efficiency)
    }

    /// The input-gradient (B) kernel of `ops` together.
    public static func backwardInput(_ ops: [OpCost], name: String, efficiency: Double = 1) -> Kernel {
        Kernel(
            name: name + " B", flops: Double(ops.reduce(0) { $0 + $1.backwardInputFLOPs }),
            hbmBytes: ops.reduce(0) { $0 + $1.parameterBytes + 2 * $1.inputBytes + $1.outputBytes },
            efficiency: efficiency)
    }

    /// The weight-gradient (W) kernel of `ops` together.
    public static func backwardWeight(_ ops: [OpCost], name: String, efficiency: Double = 1) -> Kernel {
        Kernel(
            name: name + " W", flops: Double(ops.reduce(0) { $0 + $1.backwardWeightFLOPs }),
            hbmBytes: ops.reduce(0) { $0 + $1.parameterBytes + $1.inputBytes + $1.outputBytes },
            efficiency: efficiency)
    }

    /// B and W as one kernel (a full backward without deferred weight gradients).
    public static func backward(_ ops: [OpCost], name: String, efficiency: Double = 1) -> Kernel {
        let input = backwardInput(ops, name: name, efficiency: efficiency)
        let weight = backwardWeight(ops, name: name, efficiency: efficiency)
        return Kernel(
            name: name + " B+W", flops: input.flops + weight.flops, hbmBytes: input.hbmBytes + weight.hbmBytes,
            efficiency: efficiency)
    }

    /// Activation bytes one micro-batch of `ops` keeps from its forward for its backward: every op's input and
    /// output.
    public static func activationBytes(_ ops: [OpCost]) -> Int {
        ops.reduce(0) { $0 + $1.inputBytes + $1.outputBytes }
    }

    /// An element-wise optimizer step over `elements` values as a memory-bound kernel: it reads and writes
    /// `stateBytesPerElement` of fp32 master weights and moments, reads the `gradientBytesPerElement` gradient
    /// and writes the BF16 parameter copy.
    public static func optimizerStep(
        elements: Int, stateBytesPerElement: Int, gradientBytesPerElement: Int = 2, name: String = "AdamW"
    ) -> Kernel {
        Kernel(
            name: name, flops: 0,
            hbmBytes: elements * (2 * stateBytesPerElement + gradientBytesPerElement + 2))
    }
}
