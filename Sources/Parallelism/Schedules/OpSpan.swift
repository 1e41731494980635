import SimCore

/// A compute op placed in time by the analyser.
public struct OpSpan: Hashable, Sendable {
    /// The op.
    public var op: PipelineOp
    /// When it starts.
    public var start: SimInstant
    /// When it ends.
    public var end: SimInstant
}
