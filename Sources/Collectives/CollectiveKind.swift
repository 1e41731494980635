/// The collectives the runner and the report know, with nccl-tests' size and bus-bandwidth conventions.
public enum CollectiveKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Every rank ends with the reduction of every rank's buffer.
    case allReduce = "all-reduce"
    /// Every rank ends with every rank's piece, in rank order.
    case allGather = "all-gather"
    /// Rank r ends with the reduction of piece r of every rank's buffer.
    case reduceScatter = "reduce-scatter"
    /// Rank r sends piece t of its buffer to rank t.
    case allToAll = "all-to-all"
    /// Every rank ends with the root's buffer.
    case broadcast

    public var description: String { rawValue }

    /// nccl-tests' busbw / algbw factor for `rankCount` ranks: all-reduce 2(p-1)/p; all-gather, reduce-scatter
    /// and all-to-all (p-1)/p; broadcast 1.
    public func busBandwidthFactor(rankCount p: Int) -> Double {
        let p = Double(p)
        switch self {
        case .allReduce: return 2 * (p - 1) / p
        case .allGather, .reduceScatter, .allToAll: return (p - 1) / p
        case .broadcast: return 1
        }
    }

    /// What the size S of this collective measures (nccl-tests' convention).
    public var sizeMeaning: String {
        switch self {
        case .allReduce: "the buffer each rank reduces (input = output size)"
        case .allGather: "the gathered output of each rank (each rank contributes S/p)"
        case .reduceScatter: "the input of each rank (each rank keeps S/p reduced)"
        case .allToAll: "the bytes one rank sends in all (S/p to each rank, itself included)"
        case .broadcast: "the buffer the root sends"
        }
    }

    /// The algorithm used when none is asked for: a ring, or pairwise exchange for all-to-all.
    public var defaultAlgorithm: CollectiveAlgorithm { self == .allToAll ? .pairwise : .ring }
}
