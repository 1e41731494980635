/// Rail-aware (hierarchical) reduce-scatter, all-gather and all-reduce over ranks on several nodes, as NCCL uses
/// every NIC of a node: a ring over NVLink inside each node, then one ring per rail (the ranks with the same
/// in-node index, one per node) over InfiniBand, so all g NICs of a node carry 1/g of the data at once.
///
/// Ranks must be node-major: rank r = m·g + l is in-node index l of node m (g ranks per node). Piece r of the
/// buffer (`blockCounts[r]` elements, in rank order) ends on rank r. Reduce-scatter: a ring reduce-scatter
/// inside the node leaves local rank l with the node's sum of pieces {m'·g + l}; a ring reduce-scatter along
/// rail l then leaves rank r with piece r summed over all nodes. All-gather runs the two rings backwards
/// (rail first, then node); all-reduce is the reduce-scatter followed by the all-gather. Tags: 0 node RS,
/// 1 rail RS, 2 rail AG, 3 node AG.
extension CollectivePlan {
    /// Which hierarchical collective to build.
    public enum HierarchicalKind: Sendable {
        case reduceScatter
        case allGather
        case allReduce
    }

    /// A hierarchical plan of `kind` over `nodeCount` × `gpusPerNode` node-major ranks with pieces of
    /// `blockCounts` elements (one per rank).
    public static func hierarchical(
        _ kind: HierarchicalKind, nodeCount: Int, gpusPerNode: Int, blockCounts: [Int], op: ReduceOp = .sum,
        slicing: Slicing = .whole, onlyRank: Int? = nil
    ) throws -> CollectivePlan {
        try CollectiveError.require(nodeCount >= 1, "node count", nodeCount, "must be at least 1")
        try CollectiveError.require(gpusPerNode >= 1, "ranks per node", gpusPerNode, "must be at least 1")
        let p = nodeCount * gpusPerNode
        try CollectiveError.require(
            blockCounts.count == p, "hierarchical block count", blockCounts.count, "needs one piece per rank (\(p))")
        if let bad = blockCounts.first(where: { $0 < 0 }) {
            throw CollectiveError.invalidArgument(
                name: "element count", value: "\(bad)", reason: "must not be negative")
        }
        let layout = HierarchicalLayout(nodeCount: nodeCount, gpusPerNode: gpusPerNode, counts: blockCounts, slicing)
        let programs = rankPrograms(p, onlyRank: onlyRank) { rank in
            var actions: [Action] = []
            if kind != .allGather {
                actions += layout.nodePhase(rank: rank, sendOffset: 1, combine: .sum, tag: 0)
                actions += layout.railPhase(rank: rank, sendOffset: 1, combine: .sum, tag: 1)
                if op == .average, p > 1 {
                    actions += layout.blocks[rank].map { .scale(block: $0, factor: 1 / Float(p)) }
                }
            }
            if kind != .reduceScatter {
                actions += layout.railPhase(rank: rank, sendOffset: 0, combine: .store, tag: 2)
                actions += layout.nodePhase(rank: rank, sendOffset: 0, combine: .store, tag: 3)
            }
            let all = Array(layout.blockElementCounts.indices)
            return RankProgram(
                blockElementCounts: layout.blockElementCounts,
                inputBlocks: kind == .allGather ? layout.blocks[rank] : all,
                outputBlocks: kind == .reduceScatter ? layout.blocks[rank] : all, actions: actions)
        }
        let name: String =
            switch kind {
            case .reduceScatter: "hierarchical reduce-scatter"
            case .allGather: "hierarchical all-gather"
            case .allReduce: "hierarchical all-reduce"
            }
        return CollectivePlan(name: name, programs: programs)
    }
}

/// Buffer blocks of a hierarchical plan: piece r is `blocks[r]` (its slices), and the two kinds of rings.
private struct HierarchicalLayout {
    let nodeCount: Int
    let gpusPerNode: Int
    var blockElementCounts: [Int] = []
    /// blocks[r]: the buffer blocks (slices) of piece r.
    var blocks: [[Int]] = []

    init(nodeCount: Int, gpusPerNode: Int, counts: [Int], _ slicing: Slicing) {
        self.nodeCount = nodeCount
        self.gpusPerNode = gpusPerNode
        let slices = slicing.sliceCount(elements: counts.max() ?? 0)
        for count in counts {
            blocks.append(
                CollectivePlan.evenSplit(count, into: slices).map {
                    blockElementCounts.append($0)
                    return blockElementCounts.count - 1
                })
        }
    }

    /// The ring inside `rank`'s node: ring block j is every node's piece with in-node index j.
    func nodePhase(rank: Int, sendOffset: Int, combine: CollectivePlan.Combine, tag: Int) -> [CollectivePlan.Action] {
        let (node, local) = (rank / gpusPerNode, rank % gpusPerNode)
        let members = (0..<gpusPerNode).map { node * gpusPerNode + $0 }
        let ringBlocks = (0..<gpusPerNode).map { j in (0..<nodeCount).flatMap { blocks[$0 * gpusPerNode + j] } }
        return Self.ring(members: members, position: local, ringBlocks: ringBlocks, sendOffset, combine, tag)
    }

    /// The ring along `rank`'s rail: ring block k is node k's piece on this rail.
    func railPhase(rank: Int, sendOffset: Int, combine: CollectivePlan.Combine, tag: Int) -> [CollectivePlan.Action] {
        let (node, local) = (rank / gpusPerNode, rank % gpusPerNode)
        let members = (0..<nodeCount).map { $0 * gpusPerNode + local }
        let ringBlocks = members.map { blocks[$0] }
        return Self.ring(members: members, position: node, ringBlocks: ringBlocks, sendOffset, combine, tag)
    }

    /// A ring phase over `members` (global ranks in ring order): at step s the member at `position` sends ring
    /// block position − s − sendOffset to the next member and receives ring block position − s − sendOffset − 1
    /// from the previous one, one message per buffer block.
    private static func ring(
        members: [Int], position: Int, ringBlocks: [[Int]], _ sendOffset: Int, _ combine: CollectivePlan.Combine,
        _ tag: Int
    ) -> [CollectivePlan.Action] {
        let q = members.count
        guard q > 1 else { return [] }
        let right = members[(position + 1) % q]
        let left = members[(position + q - 1) % q]
        func ringBlock(_ index: Int) -> [Int] { ringBlocks[((index % q) + q) % q] }
        return (0..<(q - 1)).flatMap { step -> [CollectivePlan.Action] in
            ringBlock(position - step - sendOffset).map { .send(blocks: [$0], toRank: right, tag: tag) }
                + ringBlock(position - step - sendOffset - 1).map {
                    .receive(blocks: [$0], fromRank: left, tag: tag, combine: combine)
                }
        }
    }
}
