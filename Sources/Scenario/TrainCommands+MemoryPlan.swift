import Hardware
import Parallelism

/// The queued pipeline run's HBM plan (`StepMemoryPlan`): its fullest GPU on the queued line, and as metrics
/// before anything runs, so a scenario can ask whether a step fits without running it.
extension TrainCommands {
    /// ` (HBM plan: fullest gpu256 62.35 GB of 85.52 GB, activations 43.50 GB)` for the queued line;
    /// records the plan for `train.plan_peak` and `train.plan_activations`.
    func planSummary(_ trainer: PipelineTrainer, on cluster: Cluster) -> String {
        let plan = trainer.memoryPlan()
        queuedPlan = plan
        guard let fullest = plan.largestPeak else { return "" }
        guard let gpu = cluster.gpus.first(where: { $0.name == fullest.gpuName }) else { return "" }
        let capacity = session.simulation.inspect(gpu) { $0.hbm.capacityBytes }
        let gigabytes = StepMemoryError.gigabytes
        return " (HBM plan: fullest \(fullest.gpuName) \(gigabytes(fullest.totalBytes)) of \(gigabytes(capacity)), "
            + "activations \(gigabytes(fullest.peakActivationBytes)))"
    }

    /// Registers `train.plan_peak` and `train.plan_activations`.
    func registerMemoryPlanMetrics() {
        session.register(
            Metric(
                "train.plan_peak", .bytes,
                "the last queued pipeline train's planned HBM peak on its fullest GPU (model states + activations)"
            ) { [unowned self] _ in queuedPlan?.largestPeak.map { Double($0.totalBytes) } })
        session.register(
            Metric(
                "train.plan_activations", .bytes,
                "the activation bytes of that GPU's planned peak (in-flight micro-batches × bytes per micro-batch)"
            ) { [unowned self] _ in queuedPlan?.largestPeak.map { Double($0.peakActivationBytes) } })
    }
}
