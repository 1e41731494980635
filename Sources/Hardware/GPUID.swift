/// A GPU's global index in its cluster (`gpu9` is GPU 1 of node 1 with 8 GPUs per node).
public struct GPUID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Position in the cluster, node-major.
    public let index: Int

    /// The GPU with global `index`.
    public init(_ index: Int) { self.index = index }

    public static func < (lhs: GPUID, rhs: GPUID) -> Bool { lhs.index < rhs.index }
    public var description: String { "gpu\(index)" }
}
