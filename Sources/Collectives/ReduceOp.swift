/// How a reducing collective combines the ranks' values.
public enum ReduceOp: String, Sendable, CaseIterable {
    /// The element-wise sum over ranks.
    case sum
    /// The element-wise sum divided by the number of ranks (applied once, after the sum).
    case average = "avg"
}
