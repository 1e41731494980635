import Hardware

/// The run's HBM, planned before it starts.
extension PipelineTrainer {
    /// What every GPU of the run will hold at the step's peak (model states and the schedule's activation
    /// peak), in GPU order: exactly what the workers charge when they run.
    public func memoryPlan() -> StepMemoryPlan {
        StepMemoryPlan(gpus: workers.map { worker in simulation.inspect(worker) { $0.memoryPlan() } })
    }

    /// Refuses the run when a GPU's peak exceeds its free HBM (`hbms`: the run's GPUs' HBM, in GPU order),
    /// naming the fullest GPU and every figure; `init` runs it against the HBM at construction.
    public func checkMemory(_ hbms: [HBM]) throws(StepMemoryError) {
        try memoryPlan().check(against: hbms)
    }
}
