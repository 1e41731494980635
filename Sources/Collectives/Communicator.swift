import Hardware

/// A group of GPUs with its own rank numbering: rank r is `ranks[r]`, as in an NCCL communicator.
public struct Communicator: Sendable, CustomStringConvertible {
    /// The cluster the GPUs belong to.
    public let cluster: Cluster
    /// The GPU of each rank.
    public let ranks: [GPUID]

    /// A communicator of `ranks` (distinct GPUs of `cluster`, rank r = `ranks[r]`); throws naming a bad GPU.
    public init(cluster: Cluster, ranks: [GPUID]) throws {
        try CollectiveError.require(!ranks.isEmpty, "communicator ranks", "[]", "needs at least one GPU")
        let gpuCount = cluster.spec.gpuCount
        if let bad = ranks.first(where: { !(0..<gpuCount).contains($0.index) }) {
            throw CollectiveError.invalidArgument(
                name: "communicator rank", value: "\(bad)", reason: "the cluster has gpu0...gpu\(gpuCount - 1)")
        }
        let sorted = ranks.sorted()
        if let index = sorted.indices.dropFirst().first(where: { sorted[$0] == sorted[$0 - 1] }) {
            throw CollectiveError.invalidArgument(
                name: "communicator rank", value: "\(sorted[index])", reason: "appears more than once")
        }
        self.cluster = cluster
        self.ranks = ranks
    }

    /// The number of ranks.
    public var size: Int { ranks.count }

    /// The GPU actor of `rank`.
    public func gpu(rank: Int) throws -> GPU {
        try CollectiveError.require(
            ranks.indices.contains(rank), "rank", rank, "the communicator has ranks 0..<\(size)")
        return try cluster.gpu(ranks[rank].index)
    }

    /// The rank of GPU `id`; throws when it is not in the communicator.
    public func rank(of id: GPUID) throws -> Int {
        guard let rank = ranks.firstIndex(of: id) else {
            throw CollectiveError.notInCommunicator(gpu: id.index, ranks: ranks.map(\.index))
        }
        return rank
    }

    /// The node of each rank's GPU.
    public var nodes: [Int] { ranks.map { cluster.node(of: $0) } }
    /// The in-node index (rail) of each rank's GPU.
    public var localIndices: [Int] { ranks.map { cluster.rail(of: $0) } }

    /// `world(8 GPUs: gpu0...gpu7)`.
    public var description: String {
        "communicator(\(size) GPUs: " + ranks.map(\.description).joined(separator: ", ") + ")"
    }

    /// Nodes and ranks per node when the ranks are node-major (rank m·g + l on the m-th node the group spans,
    /// g ranks on every node), as the hierarchical collectives need; throws otherwise.
    public func nodeMajorShape() throws -> (nodeCount: Int, gpusPerNode: Int) {
        let nodes = self.nodes
        let perNode = nodes.prefix { $0 == nodes[0] }.count
        let nodeCount = size / perNode
        let starts = (0..<nodeCount).map { nodes[$0 * perNode] }
        let isNodeMajor =
            size % perNode == 0 && Set(starts).count == nodeCount
            && (0..<size).allSatisfy { nodes[$0] == starts[$0 / perNode] }
        guard isNodeMajor else {
            throw CollectiveError.unsupportedAlgorithm(
                kind: "collective", algorithm: "hierarchical",
                reason: "ranks must be node-major with the same number on every node (nodes by rank: \(nodes))")
        }
        return (nodeCount, perNode)
    }

    // MARK: - Builders

    /// Every GPU of `cluster`, rank = global index.
    public static func world(of cluster: Cluster) throws -> Communicator {
        try Communicator(cluster: cluster, ranks: (0..<cluster.spec.gpuCount).map(GPUID.init))
    }

    /// The GPUs of node `index`, rank = in-node index.
    public static func node(_ index: Int, of cluster: Cluster) throws -> Communicator {
        let spec = cluster.spec
        try CollectiveError.require(
            (0..<spec.nodeCount).contains(index), "node", index, "the cluster has nodes 0..<\(spec.nodeCount)")
        return try Communicator(
            cluster: cluster, ranks: (0..<spec.gpusPerNode).map { GPUID(index * spec.gpusPerNode + $0) })
    }

    /// The GPUs on rail `index` (in-node index `index` of every node), rank = node.
    public static func rail(_ index: Int, of cluster: Cluster) throws -> Communicator {
        let spec = cluster.spec
        try CollectiveError.require(
            (0..<spec.gpusPerNode).contains(index), "rail", index, "the cluster has rails 0..<\(spec.gpusPerNode)")
        return try Communicator(
            cluster: cluster, ranks: (0..<spec.nodeCount).map { GPUID($0 * spec.gpusPerNode + index) })
    }

    // MARK: - Splitting

    /// Splits like `ncclCommSplit`: rank r joins the group of `colors[r]` (nil: none), ordered by
    /// (`keys[r]`, old rank); keys default to the old ranks. Groups come back in ascending color.
    public func split(colors: [Int?], keys: [Int]? = nil) throws -> [Communicator] {
        try CollectiveError.require(colors.count == size, "split colors count", colors.count, "must equal size \(size)")
        let keys = keys ?? Array(0..<size)
        try CollectiveError.require(keys.count == size, "split keys count", keys.count, "must equal size \(size)")
        let members = (0..<size).compactMap { rank in colors[rank].map { (color: $0, key: keys[rank], rank: rank) } }
        let ordered = members.sorted { ($0.color, $0.key, $0.rank) < ($1.color, $1.key, $1.rank) }
        var groups: [[GPUID]] = []
        var lastColor: Int?
        for member in ordered {
            if member.color != lastColor { groups.append([]) }
            groups[groups.count - 1].append(ranks[member.rank])
            lastColor = member.color
        }
        return try groups.map { try Communicator(cluster: cluster, ranks: $0) }
    }

    /// One communicator per node the ranks span, in node order, keeping the relative rank order.
    public func splitByNode() throws -> [Communicator] { try split(colors: nodes) }

    /// One communicator per rail (in-node index) the ranks span, in rail order, keeping the relative rank order.
    public func splitByRail() throws -> [Communicator] { try split(colors: localIndices) }
}
