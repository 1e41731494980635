import Collectives
import Hardware

/// Where the routed experts of one MoE layer live on an EP group: E / EP contiguous experts per rank, shared
/// experts and the router on every rank; plus the group's nodes for node-limited routing and hierarchical
/// dispatch.
public struct ExpertPlacement: Sendable {
    /// The EP group.
    public let communicator: Communicator
    /// Routed experts of the layer.
    public let expertCount: Int
    /// Experts on each rank (E / EP).
    public let expertsPerRank: Int
    /// The group's node (0 ..< nodeCount, in order of the ranks) of each rank.
    public let nodeOfRank: [Int]
    /// The ranks on each of the group's nodes, ascending.
    public let ranksOfNode: [[Int]]
    /// The in-node index (rail) of each rank's GPU.
    public let localIndexOfRank: [Int]

    /// Refuses experts that do not split evenly, and groups whose nodes are not equal contiguous rank blocks
    /// holding the same in-node indices (the hierarchical dispatch needs a same-index GPU on every node).
    public init(communicator: Communicator, expertCount: Int) throws {
        let size = communicator.size
        guard expertCount >= 1, expertCount % size == 0 else {
            throw ExpertParallelError.invalid(
                "experts", "\(expertCount)", "must split evenly over the \(size) ranks of the EP group")
        }
        let clusterNodes = communicator.nodes
        var nodeIDs: [Int] = []
        var nodeOfRank: [Int] = []
        for node in clusterNodes {
            if nodeIDs.last != node {
                guard !nodeIDs.contains(node) else {
                    throw ExpertParallelError.invalid(
                        "group", communicator.ranks.map(\.description).joined(separator: ","),
                        "the ranks of each node must be contiguous in rank order")
                }
                nodeIDs.append(node)
            }
            nodeOfRank.append(nodeIDs.count - 1)
        }
        let ranksOfNode = nodeIDs.indices.map { node in (0..<size).filter { nodeOfRank[$0] == node } }
        let locals = communicator.localIndices
        let firstSet = ranksOfNode[0].map { locals[$0] }.sorted()
        if let bad = ranksOfNode.firstIndex(where: { $0.map { locals[$0] }.sorted() != firstSet }) {
            throw ExpertParallelError.invalid(
                "group", "node \(nodeIDs[bad])",
                "every node of the EP group must hold GPUs with the same in-node indices (\(firstSet))")
        }
        self.communicator = communicator
        self.expertCount = expertCount
        self.expertsPerRank = expertCount / size
        self.nodeOfRank = nodeOfRank
        self.ranksOfNode = ranksOfNode
        self.localIndexOfRank = locals
    }

    /// Ranks in the group.
    public var rankCount: Int { communicator.size }
    /// Nodes the group spans.
    public var nodeCount: Int { ranksOfNode.count }

    /// The rank holding routed expert `expert`.
    public func rank(ofExpert expert: Int) -> Int { expert / expertsPerRank }

    /// The routed experts on `rank`.
    public func experts(ofRank rank: Int) -> Range<Int> { (rank * expertsPerRank)..<((rank + 1) * expertsPerRank) }

    /// The rank on `node` with the same in-node index as `rank`: where `rank`'s IB traffic to that node lands.
    public func proxy(of rank: Int, onNode node: Int) -> Int {
        ranksOfNode[node].first { localIndexOfRank[$0] == localIndexOfRank[rank] } ?? ranksOfNode[node][0]
    }

    /// The position of `rank` among its node's ranks.
    public func positionInNode(_ rank: Int) -> Int { ranksOfNode[nodeOfRank[rank]].firstIndex(of: rank) ?? 0 }
}

/// Why the expert-parallel layer refused its inputs.
public enum ExpertParallelError: Error, Equatable, CustomStringConvertible {
    /// A parameter with a bad value: its name, the value and why.
    case invalid(String, String, String)

    public var description: String {
        switch self {
        case .invalid(let name, let value, let reason): "\(name) = \(value): \(reason)"
        }
    }
}
