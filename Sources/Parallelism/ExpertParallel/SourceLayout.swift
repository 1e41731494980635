import MoEModel

/// How one token rank's routed slots travel: per target rank the slots in canonical order (expert ascending,
/// then token ascending), and per target node the tokens that cross IB once, cut into pieces that the
/// same-index GPU there forwards as they arrive.
///
/// Every rank derives the same layout from the source's routing, so senders, forwarders and receivers agree on
/// every message without exchanging anything but the counts. Immutable, and a class: every rank reads every
/// source's layout many times per call, and each copy of a struct of many arrays retains every one of them.
public final class SourceLayout: Sendable {
    /// One IB message of a source to a node: a range of the tokens bound for that node.
    public struct Piece: Sendable {
        /// Distinct tokens in the piece (what crosses IB).
        public var distinctTokens: Int
        /// Per rank of the target node (in node order): the piece's slots for it, in canonical order.
        public var parts: [[Int]]
        /// Per rank of the target node: distinct tokens of the piece it receives (what crosses NVLink).
        public var partDistinctTokens: [Int]
    }

    /// The source rank.
    public let rank: Int
    /// Tokens on the source rank.
    public let tokenCount: Int
    /// Slots per token.
    public let topK: Int
    /// Per target rank: its slots in canonical order.
    public let slotsToRank: [[Int]]
    /// Per target rank: distinct tokens it receives.
    public let distinctTokensToRank: [Int]
    /// Per node of the group: the IB pieces (empty for the source's own node).
    public let pieces: [[Piece]]
    /// Per node: distinct tokens with an expert there (the source's own node included).
    public let distinctTokensToNode: [Int]
    /// Slots routed to each expert.
    public let expertCounts: [Int]
    /// Each slot's row in its target rank's canonical list.
    public let canonicalIndex: [Int]
    /// The routing the layout was built from (for the layouts of single waves).
    let routing: RoutingDecision

    /// The layout of `routing` on `placement`; IB pieces hold at least `minPieceTokens` tokens, at most
    /// `maxPieces` per node. `localExperts` keeps only the slots routed to experts whose index on their rank
    /// lies in the range (one wave of the waved mode); nil keeps every slot.
    public init(
        rank: Int, routing: RoutingDecision, placement: ExpertPlacement, maxPieces: Int, minPieceTokens: Int,
        localExperts: Range<Int>? = nil
    ) {
        self.rank = rank
        self.routing = routing
        tokenCount = routing.tokenCount
        topK = routing.topK
        let ranks = placement.rankCount
        var slots = [[Int]](repeating: [], count: ranks)
        let perRank = placement.expertsPerRank
        func kept(_ expert: Int) -> Bool { localExperts.map { $0.contains(expert % perRank) } ?? true }
        for assignment in routing.assignments where kept(assignment.expert) {
            slots[placement.rank(ofExpert: assignment.expert)] += assignment.slots
        }
        slotsToRank = slots
        var canonical = [Int](repeating: 0, count: routing.experts.count)
        for list in slots { for (index, slot) in list.enumerated() { canonical[slot] = index } }
        canonicalIndex = canonical
        let k = routing.topK
        distinctTokensToRank = slots.map { Self.distinctCount($0.map { $0 / k }) }
        expertCounts = routing.tokensPerExpert.enumerated().map { kept($0.offset) ? $0.element : 0 }
        var pieces: [[Piece]] = []
        var perNode: [Int] = []
        let home = placement.nodeOfRank[rank]
        for (node, members) in placement.ranksOfNode.enumerated() {
            var marked = [Bool](repeating: false, count: routing.tokenCount)
            for member in members { for slot in slots[member] { marked[slot / k] = true } }
            let tokens = marked.indices.filter { marked[$0] }
            perNode.append(tokens.count)
            guard node != home, !tokens.isEmpty else {
                pieces.append([])
                continue
            }
            let count = min(max(1, maxPieces), max(1, (tokens.count + minPieceTokens - 1) / max(1, minPieceTokens)))
            let size = (tokens.count + count - 1) / count
            var pieceOfToken = [Int](repeating: -1, count: routing.tokenCount)
            for (position, token) in tokens.enumerated() { pieceOfToken[token] = position / size }
            let pieceCount = (tokens.count + size - 1) / size
            var nodePieces = (0..<pieceCount).map { index in
                Piece(
                    distinctTokens: min(size, tokens.count - index * size),
                    parts: Array(repeating: [], count: members.count),
                    partDistinctTokens: Array(repeating: 0, count: members.count))
            }
            for (position, member) in members.enumerated() {
                for slot in slots[member] { nodePieces[pieceOfToken[slot / k]].parts[position].append(slot) }
            }
            for index in nodePieces.indices {
                nodePieces[index].partDistinctTokens = nodePieces[index].parts.map {
                    Self.distinctCount($0.map { $0 / k })
                }
            }
            pieces.append(nodePieces)
        }
        self.pieces = pieces
        distinctTokensToNode = perNode
    }

    /// The layout of the same routing keeping only the slots of the local experts `localExperts`.
    func restricted(
        to localExperts: Range<Int>, placement: ExpertPlacement, maxPieces: Int, minPieceTokens: Int
    ) -> SourceLayout {
        SourceLayout(
            rank: rank, routing: routing, placement: placement, maxPieces: maxPieces, minPieceTokens: minPieceTokens,
            localExperts: localExperts)
    }

    /// Distinct token-node pairs of this source, its own node included (DeepEP's `num_rdma_token_sent`).
    public var tokenNodePairs: Int { distinctTokensToNode.reduce(0, +) }

    /// The canonical row of each of `slots`' entries within the concatenation `combined`, as row indices.
    static func gatherIndices(canonical: [Int], combined: [Int], slotCount: Int) -> [Int] {
        var position = [Int](repeating: -1, count: slotCount)
        for (index, slot) in combined.enumerated() { position[slot] = index }
        return canonical.map { position[$0] }
    }

    private static func distinctCount(_ tokens: [Int]) -> Int {
        guard !tokens.isEmpty else { return 0 }
        let sorted = tokens.sorted()
        return 1 + sorted.indices.dropFirst().filter { sorted[$0] != sorted[$0 - 1] }.count
    }
}
