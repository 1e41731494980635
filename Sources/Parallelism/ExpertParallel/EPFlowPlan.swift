import Hardware

/// What one flow-level all-to-all books, worked out once from its kind and layouts: every call that repeats them
/// (under the seeded gate, every call of a layer) books the same flows, so only their times are left per call.
///
/// Per rank, its first hops in booking order (booked when it joins); per (source, node) pair, the flows the
/// source's same-index GPU there carries on (booked once the source and the whole node have joined). See
/// `EPFlowCall` for when each starts.
final class EPFlowPlan: Sendable {
    /// A flow a rank books when it joins.
    struct FirstHop: Sendable {
        let to: Int
        let bytes: Int
        let path: FlowPath
        /// The pair this flow is the first hop of (-1: none).
        let pair: Int
        /// Bytes whose idle time from the join is when the pair's relay can start (-1: when this flow arrives).
        let leadBytes: Int
        /// Whether its arrival is when the sender's rows reach `to` (dispatch, tracked arrivals).
        let marksArrival: Bool
    }

    /// A flow of a pair's relay.
    struct SecondHop: Sendable {
        let from: Int
        let to: Int
        let bytes: Int
        let path: FlowPath
        /// It arrives no earlier than the pair's first hop plus these bytes' idle time (its last piece's).
        let lastPieceBytes: Int
        /// Whether its arrival is when the pair's source's rows reach `to` (dispatch, tracked arrivals).
        let marksArrival: Bool
    }

    let kind: EPFlowKind
    /// The cluster its paths book on, held so that their unretained ports outlive the plan.
    let cluster: Cluster
    /// The layouts it was worked out from (compared by identity to reuse it).
    let layouts: [SourceLayout]
    /// Per rank: its first hops, in booking order.
    let firstHops: [[FirstHop]]
    /// Per pair (source × nodes + node): its relay's flows; empty for a pair that does not exist.
    let secondHops: [[SecondHop]]
    /// Per pair: whether it exists (the source has rows for the node, which is not its own).
    let pairExists: [Bool]
    /// Per pair: the ranks whose flows it holds.
    let touched: [[Int]]
    /// Per rank: how many pairs hold its flows.
    let pendingPairs: [Int]
    /// Per source: its pairs, by node; per node: the pairs into it, by source.
    let pairsOfSource: [[Int]]
    let pairsIntoNode: [[Int]]

    /// The plan of `kind` over `layouts` (empty for a counts exchange) on `placement`'s ranks.
    init(kind: EPFlowKind, layouts: [SourceLayout], placement: ExpertPlacement) {
        let builder = Builder(kind: kind, layouts: layouts, placement: placement)
        self.kind = kind
        cluster = builder.cluster
        self.layouts = layouts
        firstHops = builder.firstHops
        secondHops = builder.secondHops
        pairExists = builder.pairExists
        touched = builder.touched
        pendingPairs = builder.pendingPairs
        pairsOfSource = builder.pairsOfSource
        pairsIntoNode = builder.pairsIntoNode
    }

    /// Whether the plan is the one of `kind` over `layouts` (the same objects).
    func matches(kind other: EPFlowKind, layouts others: [SourceLayout]) -> Bool {
        kind == other && layouts.elementsEqual(others, by: ===)
    }
}

extension EPFlowPlan {
    /// Works a plan out: the flows, bytes and pieces' rules of `EPFlowCall`'s booking, in its order.
    private struct Builder {
        let kind: EPFlowKind
        let layouts: [SourceLayout]
        let placement: ExpertPlacement
        let cluster: Cluster
        let nodeCount: Int
        var firstHops: [[FirstHop]]
        var secondHops: [[SecondHop]]
        var pairExists: [Bool]
        var touched: [[Int]]
        var pendingPairs: [Int]
        var pairsOfSource: [[Int]]
        var pairsIntoNode: [[Int]]

        init(kind: EPFlowKind, layouts: [SourceLayout], placement: ExpertPlacement) {
            self.kind = kind
            self.layouts = layouts
            self.placement = placement
            cluster = placement.communicator.cluster
            let ranks = placement.rankCount
            nodeCount = placement.nodeCount
            firstHops = Array(repeating: [], count: ranks)
            secondHops = Array(repeating: [], count: ranks * nodeCount)
            pairExists = Array(repeating: false, count: ranks * nodeCount)
            touched = Array(repeating: [], count: ranks * nodeCount)
            pendingPairs = Array(repeating: 0, count: ranks)
            pairsOfSource = Array(repeating: [], count: ranks)
            pairsIntoNode = Array(repeating: [], count: nodeCount)
            for source in 0..<ranks {
                for node in 0..<nodeCount where exists(source, node) { addPair(source, node) }
            }
            for rank in 0..<ranks { addFirstHops(of: rank) }
        }

        private func exists(_ source: Int, _ node: Int) -> Bool {
            guard placement.nodeOfRank[source] != node else { return false }
            if case .counts = kind { return true }
            return !layouts[source].pieces[node].isEmpty
        }

        private func path(_ from: Int, _ to: Int) -> FlowPath {
            cluster.flowPath(from: placement.communicator.ranks[from], to: placement.communicator.ranks[to])
        }

        private mutating func addPair(_ source: Int, _ node: Int) {
            let pair = source * nodeCount + node
            pairExists[pair] = true
            pairsOfSource[source].append(pair)
            pairsIntoNode[node].append(pair)
            let proxy = placement.proxy(of: source, onNode: node)
            // The ranks whose flows the pair holds: the source, the relay and (counts, dispatch) the node's targets.
            if case .combine = kind {
                touched[pair] = [source, proxy]
            } else {
                touched[pair] = [source] + placement.ranksOfNode[node]
            }
            for rank in touched[pair] { pendingPairs[rank] += 1 }
            secondHops[pair] = relayFlows(source, node, proxy: proxy)
        }

        private func relayFlows(_ source: Int, _ node: Int, proxy: Int) -> [SecondHop] {
            switch kind {
            case .counts(let bytes):
                return placement.ranksOfNode[node].filter { $0 != proxy }.map { target in
                    SecondHop(
                        from: proxy, to: target, bytes: bytes, path: path(proxy, target), lastPieceBytes: 0,
                        marksArrival: false)
                }
            case .dispatch(let bytesPerToken):
                let pieces = layouts[source].pieces[node]
                return placement.ranksOfNode[node].enumerated().compactMap { position, target in
                    let tokens = pieces.reduce(0) { $0 + $1.partDistinctTokens[position] }
                    guard tokens > 0 else { return nil }
                    let last = pieces.last { !$0.parts[position].isEmpty }?.partDistinctTokens[position] ?? 0
                    return SecondHop(
                        from: proxy, to: target, bytes: tokens * bytesPerToken, path: path(proxy, target),
                        lastPieceBytes: last * bytesPerToken, marksArrival: true)
                }
            case .combine(let bytesPerToken):
                let pieces = layouts[source].pieces[node]
                let bytes = pieces.reduce(0) { $0 + $1.distinctTokens } * bytesPerToken
                return [
                    SecondHop(
                        from: proxy, to: source, bytes: bytes, path: path(proxy, source),
                        lastPieceBytes: (pieces.last?.distinctTokens ?? 0) * bytesPerToken, marksArrival: false)
                ]
            }
        }

        private mutating func addFirstHops(of rank: Int) {
            let home = placement.nodeOfRank[rank]
            switch kind {
            case .counts(let bytes):
                for target in placement.ranksOfNode[home] where target != rank { add(rank, target, bytes: bytes) }
                for node in 0..<nodeCount where node != home {
                    let proxy = placement.proxy(of: rank, onNode: node)
                    add(rank, proxy, bytes: bytes, pair: rank * nodeCount + node, leadBytes: -1)
                }
            case .dispatch(let bytesPerToken):
                addDispatchFirstHops(of: rank, bytesPerToken: bytesPerToken)
            case .combine(let bytesPerToken):
                addCombineFirstHops(of: rank, bytesPerToken: bytesPerToken)
            }
        }

        private mutating func add(
            _ rank: Int, _ to: Int, bytes: Int, pair: Int = -1, leadBytes: Int = 0, marksArrival: Bool = false
        ) {
            firstHops[rank].append(
                FirstHop(
                    to: to, bytes: bytes, path: path(rank, to), pair: pair, leadBytes: leadBytes,
                    marksArrival: marksArrival))
        }

        /// Dispatch: the rank's rows to the ranks of its node, then one IB flow per other node with rows there.
        /// The IB sends to every node share the NIC: each node's first piece is in once all first pieces are.
        private mutating func addDispatchFirstHops(of rank: Int, bytesPerToken: Int) {
            let home = placement.nodeOfRank[rank]
            let mine = layouts[rank]
            for target in placement.ranksOfNode[home] where target != rank && !mine.slotsToRank[target].isEmpty {
                add(rank, target, bytes: mine.distinctTokensToRank[target] * bytesPerToken, marksArrival: true)
            }
            let remote = (0..<nodeCount).filter { $0 != home && !mine.pieces[$0].isEmpty }
            let firstPieces = remote.reduce(0) { $0 + mine.pieces[$1][0].distinctTokens } * bytesPerToken
            for node in remote {
                let bytes = mine.pieces[node].reduce(0) { $0 + $1.distinctTokens } * bytesPerToken
                add(
                    rank, placement.proxy(of: rank, onNode: node), bytes: bytes, pair: rank * nodeCount + node,
                    leadBytes: firstPieces)
            }
        }

        /// Combine: the expert rank's rows to the token ranks of its node, and its parts of other nodes' pieces
        /// to their sources' same-index GPUs here. It sends piece by piece across all sources, its direct rows
        /// first, so every relay has its first part once the direct rows and every source's first part have left.
        private mutating func addCombineFirstHops(of rank: Int, bytesPerToken: Int) {
            let home = placement.nodeOfRank[rank]
            let position = placement.positionInNode(rank)
            let sources = (0..<placement.rankCount).filter { $0 != rank && !layouts[$0].slotsToRank[rank].isEmpty }
            var firstPartsTokens = 0
            for source in sources {
                let layout = layouts[source]
                firstPartsTokens +=
                    placement.nodeOfRank[source] == home
                    ? layout.distinctTokensToRank[rank]
                    : layout.pieces[home].first { !$0.parts[position].isEmpty }?.partDistinctTokens[position] ?? 0
            }
            for source in sources {
                let layout = layouts[source]
                if placement.nodeOfRank[source] == home {
                    add(rank, source, bytes: layout.distinctTokensToRank[rank] * bytesPerToken)
                    continue
                }
                let tokens = layout.pieces[home].reduce(0) { $0 + $1.partDistinctTokens[position] }
                guard tokens > 0 else { continue }
                add(
                    rank, placement.proxy(of: source, onNode: home), bytes: tokens * bytesPerToken,
                    pair: source * nodeCount + home, leadBytes: firstPartsTokens * bytesPerToken)
            }
        }
    }
}
