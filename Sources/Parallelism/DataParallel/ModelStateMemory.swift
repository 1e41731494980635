/// Model-state bytes per GPU under a ZeRO stage, by the ZeRO paper's formulas (mixed-precision AdamW):
/// BF16 parameters 2Ψ, BF16 gradients 2Ψ, optimizer state KΨ (fp32 master weights, m and v: K = 12; BF16
/// moments as DeepSeek-V3 keeps them: K = 8), each divided by N_d when the stage partitions it.
///
/// Ψ/N_d is rounded up (the flat vector is padded to a multiple of N_d, as DeepSpeed does); when N_d divides Ψ
/// the figures are exact: DP 16Ψ, ZeRO-1 4Ψ + KΨ/N_d, ZeRO-2 2Ψ + (2 + K)Ψ/N_d, ZeRO-3 (4 + K)Ψ/N_d.
public struct ModelStateMemory: Sendable, Equatable {
    /// Bytes of BF16 parameters (stage 3: the shard only, without a gathered layer).
    public var parameterBytes: Int
    /// Bytes of BF16 gradients.
    public var gradientBytes: Int
    /// Bytes of optimizer state (master weights and moments).
    public var optimizerBytes: Int

    /// Parameters plus gradients plus optimizer state.
    public var totalBytes: Int { parameterBytes + gradientBytes + optimizerBytes }

    /// Bytes of optimizer state per parameter: fp32 master 4 + m and v at 4 (fp32) or 2 (bf16) each.
    public static func optimizerBytesPerParameter(bf16Moments: Bool) -> Int { bf16Moments ? 8 : 12 }

    /// The per-GPU model states of `parameterCount` parameters over `ranks` data-parallel GPUs.
    public init(parameterCount: Int, ranks: Int, stage: ZeROStage, optimizerBytesPerParameter k: Int = 12) {
        self.init(
            parameterCount: parameterCount, shardElements: (parameterCount + ranks - 1) / max(1, ranks), stage: stage,
            optimizerBytesPerParameter: k)
    }

    /// The per-GPU model states when each rank's shard holds `shardElements` of the `parameterCount`.
    public init(parameterCount: Int, shardElements: Int, stage: ZeROStage, optimizerBytesPerParameter k: Int = 12) {
        parameterBytes = 2 * (stage.shardsParameters ? shardElements : parameterCount)
        gradientBytes = 2 * (stage.shardsGradients ? shardElements : parameterCount)
        optimizerBytes = k * (stage.shardsOptimizer ? shardElements : parameterCount)
    }
}
