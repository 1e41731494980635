/// How a collective moves its data.
public enum CollectiveAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// A ring in rank order (all-reduce, all-gather, reduce-scatter); a pipelined chain for broadcast.
    case ring
    /// p-1 exchange steps, step k sending to rank r+k and receiving from r-k (all-to-all).
    case pairwise
    /// All-to-all across nodes: one IB message per target node to the same-index GPU, then NVLink forwarding.
    /// All-reduce, reduce-scatter, all-gather: a ring inside each node over NVLink and one ring per rail over IB,
    /// so every NIC of a node carries its share (`CollectivePlan.hierarchical`).
    case hierarchical

    public var description: String { rawValue }
}
