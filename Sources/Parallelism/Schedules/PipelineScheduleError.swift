/// Why a schedule cannot be generated for the requested sizes.
public enum PipelineScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stage count is below the schedule's minimum.
    case tooFewStages(schedule: String, stages: Int, minimum: Int)
    /// The schedule needs an even stage count.
    case oddStageCount(schedule: String, stages: Int)
    /// The micro-batch count is below the schedule's minimum.
    case tooFewMicroBatches(schedule: String, microBatches: Int, minimum: Int)
    /// The schedule needs an even micro-batch count.
    case oddMicroBatchCount(schedule: String, microBatches: Int)
    /// Interleaving needs at least one model chunk per device.
    case tooFewChunks(schedule: String, chunksPerDevice: Int)
    /// Interleaving needs the micro-batch count to be a multiple of the device count.
    case microBatchesNotMultiple(schedule: String, microBatches: Int, devices: Int)

    public var description: String {
        switch self {
        case .tooFewStages(let name, let stages, let minimum):
            "\(name) needs at least \(minimum) stages, got PP=\(stages)"
        case .oddStageCount(let name, let stages):
            "\(name) needs an even number of stages, got PP=\(stages)"
        case .tooFewMicroBatches(let name, let microBatches, let minimum):
            "\(name) needs at least \(minimum) micro-batches, got m=\(microBatches)"
        case .oddMicroBatchCount(let name, let microBatches):
            "\(name) needs an even number of micro-batches, got m=\(microBatches)"
        case .tooFewChunks(let name, let chunks):
            "\(name) needs at least 1 chunk per device, got v=\(chunks)"
        case .microBatchesNotMultiple(let name, let microBatches, let devices):
            "\(name) needs m to be a multiple of PP=\(devices), got m=\(microBatches)"
        }
    }
}
