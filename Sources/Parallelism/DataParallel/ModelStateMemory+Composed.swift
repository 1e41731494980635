extension ModelStateMemory {
    /// Bytes by kind, given directly.
    public init(parameterBytes: Int, gradientBytes: Int, optimizerBytes: Int) {
        self.parameterBytes = parameterBytes
        self.gradientBytes = gradientBytes
        self.optimizerBytes = optimizerBytes
    }

    /// ZeRO-1 in a composed layout: `nonExpert` parameters sharded over the `dataParallel` (DP_total) group and
    /// the GPU's `expertPerGPU` routed-expert parameters over its `expertDataParallel` (DP_replica) group:
    /// 2 + 2 bytes per parameter held, plus K·⌈Ψ_n / DP_total⌉ + K·⌈Ψ_e / DP_replica⌉ of optimizer state.
    public init(
        zero1NonExpert nonExpert: Int, dataParallel: Int, expertPerGPU: Int, expertDataParallel: Int,
        optimizerBytesPerParameter k: Int = 12
    ) {
        let dense = ModelStateMemory(
            parameterCount: nonExpert, ranks: dataParallel, stage: .optimizerStates, optimizerBytesPerParameter: k)
        let experts = ModelStateMemory(
            parameterCount: expertPerGPU, ranks: expertDataParallel, stage: .optimizerStates,
            optimizerBytesPerParameter: k)
        self = dense
        self += experts
    }

    /// Kind-by-kind sum.
    public static func += (lhs: inout ModelStateMemory, rhs: ModelStateMemory) {
        lhs.parameterBytes += rhs.parameterBytes
        lhs.gradientBytes += rhs.gradientBytes
        lhs.optimizerBytes += rhs.optimizerBytes
    }
}
