/// The way a micro-batch travels through the pipeline's devices.
public enum PipelineDirection: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Enters at the first device (DualPipe's forward direction; the only one of single-direction schedules).
    case down = 0
    /// Enters at the last device (DualPipe's reverse direction).
    case up = 1

    public var description: String { self == .down ? "down" : "up" }
}

/// One micro-batch at one model stage: the unit every compute op works on.
public struct PipelineChunk: Hashable, Sendable, CustomStringConvertible {
    /// The model stage (0 is the first layer block, `stageCount - 1` computes the loss).
    public var stage: Int
    /// The micro-batch index, counted separately in each direction.
    public var microBatch: Int
    /// The direction the micro-batch travels in.
    public var direction: PipelineDirection

    /// The chunk of `microBatch` at `stage`, travelling `direction`.
    public init(stage: Int, microBatch: Int, direction: PipelineDirection = .down) {
        self.stage = stage
        self.microBatch = microBatch
        self.direction = direction
    }

    /// The same micro-batch one stage earlier.
    var previous: PipelineChunk { PipelineChunk(stage: stage - 1, microBatch: microBatch, direction: direction) }
    /// The same micro-batch one stage later.
    var next: PipelineChunk { PipelineChunk(stage: stage + 1, microBatch: microBatch, direction: direction) }

    public var description: String {
        "mb \(microBatch)\(direction == .up ? " up" : ""), stage \(stage)"
    }
}
