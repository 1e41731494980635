import SimCore

/// How long each compute op takes; an F&B defaults to f + b + w (overlap hides communication, not compute).
public struct OpDurations: Hashable, Sendable {
    /// f: forward of one chunk.
    public var forward: SimDuration
    /// b: backward for the inputs of one chunk.
    public var backwardInput: SimDuration
    /// w: backward for the weights of one chunk.
    public var backwardWeight: SimDuration
    /// fb: DualPipe's overlapped forward + full backward pair.
    public var forwardBackward: SimDuration

    /// Durations f, b, w and fb (default f + b + w).
    public init(
        forward: SimDuration, backwardInput: SimDuration, backwardWeight: SimDuration,
        forwardBackward: SimDuration? = nil
    ) {
        self.forward = forward
        self.backwardInput = backwardInput
        self.backwardWeight = backwardWeight
        self.forwardBackward = forwardBackward ?? forward + backwardInput + backwardWeight
    }

    /// f = b = w = `unit` (fb = 3 units).
    public static func uniform(_ unit: SimDuration) -> OpDurations {
        OpDurations(forward: unit, backwardInput: unit, backwardWeight: unit)
    }

    /// The compute time of `op` (zero for sends and receives).
    public func duration(of op: PipelineOp) -> SimDuration {
        switch op.kind {
        case .forward: forward
        case .backwardInput: backwardInput
        case .backwardWeight: backwardWeight
        case .backwardFull: backwardInput + backwardWeight
        case .forwardBackward: forwardBackward
        case .send, .receive: .zero
        }
    }
}
