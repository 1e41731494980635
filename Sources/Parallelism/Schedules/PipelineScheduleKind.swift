/// The schedules moesim can generate.
public enum PipelineScheduleKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// All forwards, then all full backwards.
    case gpipe
    /// One forward, one full backward (PipeDream-flush / Megatron).
    case oneFOneB = "1f1b"
    /// Zero Bubble ZB-H1: 1F1B with split backward, weight gradients deferred to fill the drain.
    case zeroBubbleH1 = "zb1p"
    /// DeepSeek's bidirectional DualPipe.
    case dualPipe = "dualpipe"
    /// DualPipe cut in half: PP/2 devices, V-shaped placement.
    case dualPipeV = "dualpipev"

    /// The display name, e.g. `1F1B`, `DualPipe-V`.
    public var description: String {
        switch self {
        case .gpipe: "GPipe"
        case .oneFOneB: "1F1B"
        case .zeroBubbleH1: "ZB1P"
        case .dualPipe: "DualPipe"
        case .dualPipeV: "DualPipe-V"
        }
    }
}

extension PipelineSchedule {
    /// Generates the `kind` schedule for `stages` pipeline stages (PP) and `microBatches` micro-batches (m).
    public static func generate(_ kind: PipelineScheduleKind, stages: Int, microBatches: Int) throws
        -> PipelineSchedule
    {
        let name = kind.description
        switch kind {
        case .gpipe:
            try checkSizes(name, stages: stages, microBatches: microBatches)
            return gpipe(stages: stages, microBatches: microBatches)
        case .oneFOneB, .zeroBubbleH1:
            try checkSizes(name, stages: stages, microBatches: microBatches)
            return oneFOneB(stages: stages, microBatches: microBatches, splitBackward: kind == .zeroBubbleH1)
        case .dualPipe, .dualPipeV:
            return try dualPipe(stages: stages, microBatches: microBatches, variant: kind)
        }
    }

    /// Throws unless there is at least one stage and one micro-batch.
    static func checkSizes(_ name: String, stages: Int, microBatches: Int) throws {
        guard stages >= 1 else { throw PipelineScheduleError.tooFewStages(schedule: name, stages: stages, minimum: 1) }
        guard microBatches >= 1 else {
            throw PipelineScheduleError.tooFewMicroBatches(schedule: name, microBatches: microBatches, minimum: 1)
        }
    }
}
