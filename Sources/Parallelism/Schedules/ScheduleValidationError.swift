/// Why a schedule is not a correct training step; the message names the offending op.
public struct ScheduleValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The op at fault, when there is one.
    public var op: PipelineOp?
    /// What is wrong, naming the op and its position.
    public var message: String

    /// An error about `op` (or the whole schedule when nil).
    public init(_ message: String, op: PipelineOp? = nil) {
        self.op = op
        self.message = message
    }

    public var description: String { message }
}
