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
        return " (HBM plan: fullest \(fullest.gpuName) \(Self.gigabytes(fullest.totalBytes)) of "
            + "\(Self.gigabytes(capacity)), activations \(Self.gigabytes(fullest.peakActivationBytes)))"
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

    /// `62.30 GB`: bytes in GB (1e9) with two decimals, as the HBM refusal prints them.
    static func gigabytes(_ bytes: Int) -> String {
        let hundredths = (bytes + 5_000_000) / 10_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) GB"
    }
}
