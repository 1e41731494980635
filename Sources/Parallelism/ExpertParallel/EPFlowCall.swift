import Hardware
import SimCore

/// Which all-to-all a flow-level call models, with its bytes.
enum EPFlowKind: Sendable {
    /// The counts exchange: `bytes` per rank and node, to every rank.
    case counts(bytes: Int)
    /// Token rows from their ranks to the experts' ranks (IB once per token and node, then relayed).
    case dispatch(bytesPerToken: Int)
    /// Expert rows back to their token ranks (relayed to the same-index GPU, then IB once per piece).
    case combine(bytesPerToken: Int)
}

/// The state of one flow-level all-to-all (`a2a=flows`) while its ranks join, confined to its `EPFlowExchange`.
///
/// Each rank's first-hop flows (its own NVLink sends and IB pieces; in combine its rows to the in-node token
/// ranks and to the relays) are booked when it joins. A source's flows through the same-index GPU of another
/// node (a pair of source and node: the relays of dispatch, the IB send of combine) are booked once the source
/// and every rank of that node have joined, starting when the first piece could leave the relay and ending no
/// earlier than the last piece's own time after the first hop's arrival (the pieces' pipelining). A rank's
/// part is over when every flow it sends or receives has arrived; it is resolved once all those are booked.
final class EPFlowCall {
    let kind: EPFlowKind
    private let layouts: [SourceLayout]
    private let placement: ExpertPlacement
    private let cluster: Cluster
    private let ids: [GPUID]
    private let nodeCount: Int
    /// When each rank joined (ns; -1: not yet).
    private var joinNs: [Int64]
    private var nodeJoined: [Int]
    /// Per (source, node) pair: whether it exists, whether it is booked.
    private var pairExists: [Bool]
    private var pairBooked: [Bool]
    /// Per pair: when the first hop (IB in dispatch, the relays in combine) has arrived, and the earliest the
    /// relay can start its second hop (ns).
    private var pairFirstHopNs: [Int64]
    private var pairSecondHopStartNs: [Int64]
    /// Per rank: unbooked pairs whose flows it sends or receives.
    private var pendingPairs: [Int]
    /// Per rank: when the last flow it sends or receives arrives (ns).
    private(set) var doneNs: [Int64]
    /// Per rank: the bytes it sent.
    private(set) var traffic: [EPTraffic]
    /// Per receiving rank and source (dispatch, when tracked): when the source's rows arrived (ns).
    private(set) var arrivalNs: [Int64]
    private(set) var resolved: [Bool]
    /// Ranks that have taken their result.
    var returned = 0
    /// Why the call failed (a refused booking); every rank of it then throws this.
    var failure: (any Error)?
    /// Per rank: the waiter of its process while it waits to be resolved.
    private var parked: [CancellableWaiter<Void>?]
    /// Counts exchange: each rank's layout as it joins (what its counts tell the others).
    private var published: [SourceLayout?]
    /// Counts exchange: every rank's layout, once all have joined.
    private(set) lazy var publishedLayouts: [SourceLayout] = published.compactMap { $0 }

    init(kind: EPFlowKind, layouts: [SourceLayout], placement: ExpertPlacement, tracksArrivals: Bool) {
        self.kind = kind
        self.layouts = layouts
        self.placement = placement
        cluster = placement.communicator.cluster
        ids = placement.communicator.ranks
        let ranks = placement.rankCount
        nodeCount = placement.nodeCount
        joinNs = Array(repeating: -1, count: ranks)
        nodeJoined = Array(repeating: 0, count: nodeCount)
        pairExists = Array(repeating: false, count: ranks * nodeCount)
        pairBooked = pairExists
        pairFirstHopNs = Array(repeating: 0, count: ranks * nodeCount)
        pairSecondHopStartNs = pairFirstHopNs
        pendingPairs = Array(repeating: 0, count: ranks)
        doneNs = Array(repeating: 0, count: ranks)
        traffic = Array(repeating: EPTraffic(), count: ranks)
        arrivalNs = tracksArrivals ? Array(repeating: 0, count: ranks * ranks) : []
        resolved = Array(repeating: false, count: ranks)
        parked = Array(repeating: nil, count: ranks)
        if case .counts = kind { published = Array(repeating: nil, count: ranks) } else { published = [] }
        for source in 0..<ranks {
            for node in 0..<nodeCount where exists(source, node) {
                pairExists[source * nodeCount + node] = true
                for rank in touched(source, node) { pendingPairs[rank] += 1 }
            }
        }
    }

    /// Parks `rank`'s process on `waiter` until it is resolved (`wake`) or the call fails (`wakeAll`).
    func park(_ rank: Int, _ waiter: CancellableWaiter<Void>) { parked[rank] = waiter }

    /// Wakes `rank`'s process if it is parked.
    func wake(_ rank: Int) {
        parked[rank]?.resume(returning: ())
        parked[rank] = nil
    }

    /// Wakes every parked process (the call failed).
    func wakeAll() { for rank in parked.indices { wake(rank) } }

    private func exists(_ source: Int, _ node: Int) -> Bool {
        guard placement.nodeOfRank[source] != node else { return false }
        if case .counts = kind { return true }
        return !layouts[source].pieces[node].isEmpty
    }

    /// The ranks whose flows a pair holds: the source, the relay and (counts, dispatch) the node's targets.
    private func touched(_ source: Int, _ node: Int) -> [Int] {
        if case .combine = kind { return [source, placement.proxy(of: source, onNode: node)] }
        return [source] + placement.ranksOfNode[node]
    }

    private func joined(_ rank: Int) -> Bool { joinNs[rank] >= 0 }
    private func nodeFull(_ node: Int) -> Bool { nodeJoined[node] == placement.ranksOfNode[node].count }

    /// Rank `rank` joins at `nowNs` (with its layout in a counts exchange): books what it makes bookable;
    /// returns the ranks resolved now.
    func join(_ rank: Int, nowNs: Int64, layout: SourceLayout?) throws -> [Int] {
        guard !joined(rank) else {
            throw ExpertParallelError.invalid("rank", "\(rank)", "joined the same flow-level all-to-all twice")
        }
        joinNs[rank] = nowNs
        if !published.isEmpty { published[rank] = layout }
        try bookFirstHops(of: rank, nowNs: nowNs)
        let home = placement.nodeOfRank[rank]
        nodeJoined[home] += 1
        var candidates = [rank]
        if nodeFull(home) {
            candidates += placement.ranksOfNode[home]
            for source in 0..<placement.rankCount where joined(source) && pairExists[source * nodeCount + home] {
                candidates += try bookPair(source, home)
            }
        }
        for node in 0..<nodeCount where nodeFull(node) && pairExists[rank * nodeCount + node] {
            candidates += try bookPair(rank, node)
        }
        var done: [Int] = []
        for candidate in candidates where !resolved[candidate] && pendingPairs[candidate] == 0 {
            guard nodeFull(placement.nodeOfRank[candidate]) else { continue }
            resolved[candidate] = true
            done.append(candidate)
        }
        return done
    }

    /// Books `bytes` from rank `from` to rank `to` starting at `startNs`; returns the arrival (ns).
    @discardableResult
    private func flow(_ from: Int, _ to: Int, bytes: Int, startNs: Int64) throws -> Int64 {
        guard bytes > 0, from != to else { return startNs }
        let arrival = try cluster.bookFlow(from: ids[from], to: ids[to], bytes: bytes, startNs: startNs)
        if placement.nodeOfRank[from] == placement.nodeOfRank[to] {
            traffic[from].nvlinkBytes += bytes
        } else {
            traffic[from].ibBytes += bytes
        }
        doneNs[from] = max(doneNs[from], arrival)
        doneNs[to] = max(doneNs[to], arrival)
        return arrival
    }

    private func duration(_ from: Int, _ to: Int, bytes: Int) throws -> Int64 {
        guard bytes > 0, from != to else { return 0 }
        return try cluster.flowDurationNs(from: ids[from], to: ids[to], bytes: bytes)
    }

    private func noteArrival(at rank: Int, from source: Int, _ ns: Int64) {
        guard !arrivalNs.isEmpty else { return }
        let index = rank * placement.rankCount + source
        arrivalNs[index] = max(arrivalNs[index], ns)
    }

    private func bookFirstHops(of rank: Int, nowNs: Int64) throws {
        let home = placement.nodeOfRank[rank]
        let members = placement.ranksOfNode
        switch kind {
        case .counts(let bytes):
            for target in members[home] where target != rank { try flow(rank, target, bytes: bytes, startNs: nowNs) }
            for node in 0..<nodeCount where node != home {
                let pair = rank * nodeCount + node
                let proxy = placement.proxy(of: rank, onNode: node)
                pairFirstHopNs[pair] = try flow(rank, proxy, bytes: bytes, startNs: nowNs)
                pairSecondHopStartNs[pair] = pairFirstHopNs[pair]
            }
        case .dispatch(let bytesPerToken):
            let mine = layouts[rank]
            noteArrival(at: rank, from: rank, nowNs)
            for target in members[home] where target != rank && !mine.slotsToRank[target].isEmpty {
                let bytes = mine.distinctTokensToRank[target] * bytesPerToken
                noteArrival(at: target, from: rank, try flow(rank, target, bytes: bytes, startNs: nowNs))
            }
            // The IB sends to every node share the NIC: each node's first piece is in once all first pieces are.
            let remote = (0..<nodeCount).filter { $0 != home && !mine.pieces[$0].isEmpty }
            let firstPieces = remote.reduce(0) { $0 + mine.pieces[$1][0].distinctTokens } * bytesPerToken
            for node in remote {
                let pair = rank * nodeCount + node
                let proxy = placement.proxy(of: rank, onNode: node)
                let bytes = mine.pieces[node].reduce(0) { $0 + $1.distinctTokens } * bytesPerToken
                pairFirstHopNs[pair] = try flow(rank, proxy, bytes: bytes, startNs: nowNs)
                pairSecondHopStartNs[pair] = nowNs + (try duration(rank, proxy, bytes: firstPieces))
            }
        case .combine(let bytesPerToken):
            try bookCombineFirstHops(of: rank, bytesPerToken: bytesPerToken, nowNs: nowNs)
        }
    }

    /// Combine's first hops from expert rank `rank`: its rows to the token ranks of its node, and its parts of
    /// other nodes' pieces to their sources' same-index GPUs here.
    ///
    /// The rank sends piece by piece across all sources, its direct rows first, so every relay has its first
    /// part once the direct rows and every source's first part have left.
    private func bookCombineFirstHops(of rank: Int, bytesPerToken: Int, nowNs: Int64) throws {
        let home = placement.nodeOfRank[rank]
        let position = placement.positionInNode(rank)
        var firstPartsTokens = 0
        for source in 0..<placement.rankCount where source != rank && !layouts[source].slotsToRank[rank].isEmpty {
            let layout = layouts[source]
            firstPartsTokens +=
                placement.nodeOfRank[source] == home
                ? layout.distinctTokensToRank[rank]
                : layout.pieces[home].first { !$0.parts[position].isEmpty }?.partDistinctTokens[position] ?? 0
        }
        for source in 0..<placement.rankCount where source != rank {
            let layout = layouts[source]
            guard !layout.slotsToRank[rank].isEmpty else { continue }
            if placement.nodeOfRank[source] == home {
                try flow(rank, source, bytes: layout.distinctTokensToRank[rank] * bytesPerToken, startNs: nowNs)
                continue
            }
            var tokens = 0
            for piece in layout.pieces[home] { tokens += piece.partDistinctTokens[position] }
            guard tokens > 0 else { continue }
            let pair = source * nodeCount + home
            let proxy = placement.proxy(of: source, onNode: home)
            let bytes = tokens * bytesPerToken
            let arrival = try flow(rank, proxy, bytes: bytes, startNs: nowNs)
            pairFirstHopNs[pair] = max(pairFirstHopNs[pair], arrival)
            let firstParts = try duration(rank, proxy, bytes: firstPartsTokens * bytesPerToken)
            pairSecondHopStartNs[pair] = max(pairSecondHopStartNs[pair], nowNs + firstParts)
        }
    }

    /// Books the second hops of `source`'s pieces through the same-index GPU of `node`; returns the ranks
    /// whose pending pairs went down.
    private func bookPair(_ source: Int, _ node: Int) throws -> [Int] {
        let pair = source * nodeCount + node
        guard !pairBooked[pair] else { return [] }
        pairBooked[pair] = true
        let proxy = placement.proxy(of: source, onNode: node)
        let firstHop = pairFirstHopNs[pair]
        let startNs = max(joinNs[proxy], pairSecondHopStartNs[pair])
        switch kind {
        case .counts(let bytes):
            for target in placement.ranksOfNode[node] where target != proxy {
                try flow(proxy, target, bytes: bytes, startNs: max(joinNs[proxy], firstHop))
            }
        case .dispatch(let bytesPerToken):
            let pieces = layouts[source].pieces[node]
            for (position, target) in placement.ranksOfNode[node].enumerated() {
                let tokens = pieces.reduce(0) { $0 + $1.partDistinctTokens[position] }
                guard tokens > 0 else { continue }
                let last = (pieces.last { !$0.parts[position].isEmpty }?.partDistinctTokens[position] ?? 0)
                let arrival = max(
                    try flow(proxy, target, bytes: tokens * bytesPerToken, startNs: startNs),
                    firstHop + (try duration(proxy, target, bytes: last * bytesPerToken)))
                doneNs[target] = max(doneNs[target], arrival)
                doneNs[proxy] = max(doneNs[proxy], arrival)
                noteArrival(at: target, from: source, arrival)
            }
        case .combine(let bytesPerToken):
            let pieces = layouts[source].pieces[node]
            let bytes = pieces.reduce(0) { $0 + $1.distinctTokens } * bytesPerToken
            let last = (pieces.last?.distinctTokens ?? 0) * bytesPerToken
            let arrival = max(
                try flow(proxy, source, bytes: bytes, startNs: startNs),
                firstHop + (try duration(proxy, source, bytes: last)))
            doneNs[source] = max(doneNs[source], arrival)
            doneNs[proxy] = max(doneNs[proxy], arrival)
        }
        let ranks = touched(source, node)
        for rank in ranks { pendingPairs[rank] -= 1 }
        return ranks
    }
}
