import Hardware

extension ExpertParallelLayer {
    /// Linear-1 (gate and up projections, [rows, h]·[h, 2I]) of `rows` rows, reading the weights of `experts`
    /// experts: 4·rows·h·I FLOPs.
    func linear1Kernel(rows: Int, experts: Int, name: String = "linear-1 F") -> Kernel {
        let format = options.expertPrecision
        let flops = 2 * Double(rows) * Double(hiddenSize) * Double(2 * expertWidth)
        let bytes =
            format.weightBytes(experts * 2 * hiddenSize * expertWidth) + rows * hiddenSize * format.activationBytes
            + rows * 2 * expertWidth * 2
        return Kernel(
            name: name, flops: flops, hbmBytes: bytes, precision: format.kernelPrecision)
    }

    /// SwiGLU on `rows` rows of Linear-1's output (and the cast to Linear-2's input format): memory bound.
    func activationKernel(rows: Int) -> Kernel {
        Kernel(
            name: "swiglu F", flops: 0,
            hbmBytes: rows * 2 * expertWidth * 2 + rows * expertWidth * options.expertPrecision.activationBytes)
    }

    /// Linear-2 ([rows, I]·[I, h]) of `rows` rows, `fraction` of its output columns, reading that fraction of
    /// `experts` experts' weights: 2·rows·I·h·fraction FLOPs.
    func linear2Kernel(rows: Int, experts: Int, fraction: Double = 1, name: String = "linear-2 F") -> Kernel {
        let format = options.expertPrecision
        let flops = 2 * Double(rows) * Double(expertWidth) * Double(hiddenSize) * fraction
        let weights = Double(format.weightBytes(experts * hiddenSize * expertWidth)) * fraction
        let activations = Double(rows * expertWidth * format.activationBytes + rows * hiddenSize * 2) * fraction
        return Kernel(
            name: name, flops: flops, hbmBytes: Int((weights + activations).rounded()),
            precision: format.kernelPrecision)
    }
}
