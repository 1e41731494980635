import Hardware

/// One direction of the experts' dispatch → GEMM → activation → GEMM → combine.
///
/// Forward sends tokens (FP8 or BF16) and runs Linear-1 (gate and up, [rows, h]·[h, 2I]), SwiGLU, Linear-2
/// ([rows, I]·[I, h]); backward (B, the input gradient) sends output gradients (BF16) and runs the transposes
/// in reverse: Linear-2's input gradient ([rows, h]·[h, I]), SwiGLU's backward, Linear-1's input gradient
/// ([rows, 2I]·[2I, h]). Both cost 6·rows·h·I FLOPs; the weight gradients are W, deferred.
enum EPPass: Sendable {
    case forward
    case backward

    /// The message legs of the two transfers.
    var dispatchLegs: EPLegs { self == .forward ? .dispatch : .gradientDispatch }
    var combineLegs: EPLegs { self == .forward ? .combine : .gradientCombine }
    /// The letter of the kernel names (F or B).
    var letter: String { self == .forward ? "F" : "B" }
}

extension ExpertParallelLayer {
    /// Bytes per token and target of `pass`'s dispatch: FP8 (or BF16) tokens forward, BF16 gradients backward.
    func dispatchBytesPerToken(_ pass: EPPass) -> Int {
        pass == .forward ? wire.dispatchBytesPerToken : wire.bf16BytesPerToken
    }

    /// The first GEMM of `pass` on `rows` rows, reading the weights of `experts` experts. Forward: Linear-1,
    /// 4·rows·h·I FLOPs; backward: Linear-2's input gradient, 2·rows·h·I.
    func firstGEMM(_ pass: EPPass, rows: Int, experts: Int, name: String? = nil) -> Kernel {
        switch pass {
        case .forward:
            gemm(
                name ?? "linear-1 F", rows: rows, experts: experts, inputWidth: hiddenSize,
                outputWidth: 2 * expertWidth, inputFormat: true, fraction: 1, transposed: false)
        case .backward:
            gemm(
                name ?? "linear-2 B", rows: rows, experts: experts, inputWidth: hiddenSize, outputWidth: expertWidth,
                inputFormat: false, fraction: 1, transposed: true)
        }
    }

    /// SwiGLU (forward: reads gate and up, writes the product in Linear-2's input format; backward: reads the
    /// product's gradient and the saved gate and up, writes their gradients): memory bound.
    func activationKernel(_ pass: EPPass, rows: Int) -> Kernel {
        let format = options.expertPrecision
        let bytes =
            pass == .forward
            ? rows * 2 * expertWidth * 2 + format.activationBytes(rows * expertWidth)
            : rows * expertWidth * 2 + rows * 2 * expertWidth * 2 + format.activationBytes(rows * 2 * expertWidth)
        return Kernel(name: "swiglu \(pass.letter)", flops: 0, hbmBytes: bytes)
    }

    /// The second GEMM of `pass`, `fraction` of its output columns (Comet's column blocks). Forward: Linear-2,
    /// 2·rows·I·h FLOPs; backward: Linear-1's input gradient, 4·rows·I·h.
    func secondGEMM(_ pass: EPPass, rows: Int, experts: Int, fraction: Double = 1, name: String? = nil) -> Kernel {
        switch pass {
        case .forward:
            return gemm(
                name ?? "linear-2 F", rows: rows, experts: experts, inputWidth: expertWidth, outputWidth: hiddenSize,
                inputFormat: true, fraction: fraction, transposed: false)
        case .backward:
            return gemm(
                name ?? "linear-1 B", rows: rows, experts: experts, inputWidth: 2 * expertWidth,
                outputWidth: hiddenSize, inputFormat: true, fraction: fraction, transposed: true)
        }
    }

    /// A grouped GEMM [rows, inputWidth]·[inputWidth, outputWidth] over `experts` experts' weights in the
    /// expert format, `fraction` of the output columns: 2·rows·in·out·fraction FLOPs; reads that fraction of the
    /// weights and of the input rows (in the expert format when `inputFormat`, else BF16 gradients), writes
    /// BF16 outputs. `transposed`: an input gradient, priced at the forward GEMM of the same weight.
    private func gemm(
        _ name: String, rows: Int, experts: Int, inputWidth: Int, outputWidth: Int, inputFormat: Bool,
        fraction: Double, transposed: Bool
    ) -> Kernel {
        let format = options.expertPrecision
        let flops = 2 * Double(rows) * Double(inputWidth) * Double(outputWidth) * fraction
        let weights = Double(format.weightBytes(experts * inputWidth * outputWidth)) * fraction
        let inputs = inputFormat ? format.activationBytes(rows * inputWidth) : 2 * rows * inputWidth
        let activations = Double(inputs + rows * outputWidth * 2) * fraction
        let (n, k) = transposed ? (inputWidth, outputWidth) : (outputWidth, inputWidth)
        return Kernel(
            name: name, flops: flops, hbmBytes: Int((weights + activations).rounded()),
            precision: format.kernelPrecision,
            efficiency: publishedEfficiency(n: n, k: k, rows: rows / max(1, experts), grouped: true, format: format))
    }

    /// The published efficiency of an FP8 GEMM of this layer (`PublishedGEMMRates`), or 1 where none applies.
    func publishedEfficiency(n: Int, k: Int, rows: Int, grouped: Bool, format: ExpertPrecision) -> Double {
        guard appliesPublishedRates, format == .fp8 else { return 1 }
        return PublishedGEMMRates.efficiency(n: n, k: k, rows: rows, grouped: grouped) ?? 1
    }

    /// The FLOP-weighted published efficiency of a SwiGLU expert's Linear-1 (gate and up fused, 2/3 of the
    /// FLOPs) and Linear-2 on `rows` rows (per expert when `grouped`): 3 / (2 / e₁ + 1 / e₂).
    func swiGLUEfficiency(rows: Int, grouped: Bool, format: ExpertPrecision) -> Double {
        let first = publishedEfficiency(n: 2 * expertWidth, k: hiddenSize, rows: rows, grouped: grouped, format: format)
        let second = publishedEfficiency(n: hiddenSize, k: expertWidth, rows: rows, grouped: grouped, format: format)
        return 3 / (2 / first + 1 / second)
    }
}
