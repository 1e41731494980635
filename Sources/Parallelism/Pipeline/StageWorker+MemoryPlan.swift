/// What a stage worker will hold on its GPU at the step's peak, known before it runs (`StepMemoryPlan`).
extension StageWorker {
    /// The model states `allocateModelStates` charges: 2 + 2 bytes per parameter of its copies, K bytes of
    /// AdamW state per parameter of its shard (all of them without ZeRO-1; K = 12, or 8 with BF16 moments).
    var modelStateMemory: ModelStateMemory {
        let count = replicas.reduce(0) { $0 + $1.parameterCount }
        return ModelStateMemory(
            parameterBytes: 2 * count, gradientBytes: 2 * count,
            optimizerBytes: compute.optimizerStateBytesPerParameter * ownedParameterCount)
    }

    /// This worker's plan: its model states and the activation peak of its op list.
    func memoryPlan() -> StepMemoryPlan.GPUPlan {
        let bytes = replicas.map(\.activationBytes)
        let replicas = replicas
        let peak = StepMemoryPlan.activationPeak(of: schedule.devices[rank], bytes: bytes) { chunk in
            replicas.firstIndex { $0.runs(chunk) }
        }
        return StepMemoryPlan.GPUPlan(
            gpuName: gpu.name, pipelineRank: rank, dataIndex: dataParallel?.dataIndex ?? 0,
            stages: replicas.map(\.stageIndex), modelStates: modelStateMemory, activationBytesPerMicroBatch: bytes,
            peakInFlight: peak, activations: compute.costModel.activations)
    }
}
