import MoEModel

/// Per-GPU model states of a composed layout under ZeRO-1 (DeepSeek-V3's setting).
extension ParallelLayout {
    /// The model-state bytes on each GPU of pipeline rank `pipelineRank` for `config` split by
    /// `ModelStage.layerRanges`: for each stage the rank holds (stage `pipelineRank`, and with `dualPipe` also
    /// stage PP − 1 − `pipelineRank`),
    /// `ModelStateMemory(zero1NonExpert: Ψ_n, dataParallel: DP_total, expertPerGPU: Ψ_e / EP,
    /// expertDataParallel: DP_replica)`, summed. K = 8 with BF16 moments, else 12.
    public func modelStates(
        config: MoEConfig, pipelineRank: Int, dualPipe: Bool, bf16Moments: Bool
    ) throws -> ModelStateMemory {
        let ranges = try ModelStage.layerRanges(layers: config.layerCount, stages: pipelineStages)
        guard ranges.indices.contains(pipelineRank) else {
            throw LayoutError.invalid(
                name: "pipeline rank", value: pipelineRank, reason: "must be in 0..<\(pipelineStages)")
        }
        let mirrored = pipelineStages - 1 - pipelineRank
        let stages = dualPipe && mirrored != pipelineRank ? [pipelineRank, mirrored] : [pipelineRank]
        let k = ModelStateMemory.optimizerBytesPerParameter(bf16Moments: bf16Moments)
        var total = ModelStateMemory(parameterBytes: 0, gradientBytes: 0, optimizerBytes: 0)
        for stage in stages {
            let parameters = try StageParameters(config: config, layers: ranges[stage])
            total += ModelStateMemory(
                zero1NonExpert: parameters.nonExpert, dataParallel: dataParallel,
                expertPerGPU: parameters.routedExpertPerGPU(expertParallel: expertParallel),
                expertDataParallel: dataParallelReplicas, optimizerBytesPerParameter: k)
        }
        return total
    }
}

extension ParallelLayout {
    /// The layout a preset's step stands for (`TrainingStepDefaults`), checked against `expertCount` routed
    /// experts: DeepSeek-V3's PP16 × EP64 × DP_replica 2 on 2048 GPUs.
    public init(defaults: TrainingStepDefaults, expertCount: Int?) throws(LayoutError) {
        try self.init(
            pipelineStages: defaults.pipelineStages, expertParallel: defaults.expertParallel,
            dataParallelReplicas: defaults.dataParallelReplicas, gpuCount: defaults.gpuCount,
            gpusPerNode: defaults.gpusPerNode, expertCount: expertCount)
    }
}
