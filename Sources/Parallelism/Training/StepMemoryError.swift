/// Why a training step was refused before it ran: its peak does not fit in a GPU's HBM.
public enum StepMemoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The fullest GPU's plan, its HBM capacity and free bytes, and how many of the run's GPUs do not fit.
    case doesNotFit(StepMemoryPlan.GPUPlan, capacityBytes: Int, freeBytes: Int, misfits: Int, gpuCount: Int)

    public var description: String {
        switch self {
        case .doesNotFit(let plan, let capacity, let free, let misfits, let gpuCount):
            let states = plan.modelStates
            let copies = plan.stages.indices.map { index in
                "\(plan.peakInFlight[index]) of stage \(plan.stages[index]) × "
                    + Self.gigabytes(plan.activationBytesPerMicroBatch[index])
            }
            let freeNote = free == capacity ? "" : ", \(Self.gigabytes(free)) free"
            return "the step does not fit in HBM (GB = 1e9 bytes): \(plan.gpuName) (pipeline rank "
                + "\(plan.pipelineRank), data index \(plan.dataIndex), stage\(plan.stages.count == 1 ? "" : "s") "
                + "\(plan.stages.map(String.init).joined(separator: "+"))) needs \(Self.gigabytes(plan.totalBytes)) "
                + "at the step's peak = parameters \(Self.gigabytes(states.parameterBytes)) + gradients "
                + "\(Self.gigabytes(states.gradientBytes)) + optimizer shard \(Self.gigabytes(states.optimizerBytes)) "
                + "+ activations \(Self.gigabytes(plan.peakActivationBytes)) (activations=\(plan.activations.rawValue), "
                + "\(plan.peakMicroBatches) micro-batches "
                + "in flight at the schedule's peak: \(copies.joined(separator: " + "))), HBM "
                + "\(Self.gigabytes(capacity))\(freeNote); \(misfits) of \(gpuCount) GPUs do not fit; nothing was run"
        }
    }

    /// `85.52 GB`: bytes in GB (1e9) with two decimals, rounded half up.
    public static func gigabytes(_ bytes: Int) -> String {
        let hundredths = (bytes + 5_000_000) / 10_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) GB"
    }
}
