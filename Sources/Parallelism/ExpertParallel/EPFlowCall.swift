import Hardware
import SimCore

/// Which all-to-all a flow-level call models, with its bytes.
enum EPFlowKind: Sendable, Hashable {
    /// The counts exchange: `bytes` per rank and node, to every rank.
    case counts(bytes: Int)
    /// Token rows from their ranks to the experts' ranks (IB once per token and node, then relayed).
    case dispatch(bytesPerToken: Int)
    /// Expert rows back to their token ranks (relayed to the same-index GPU, then IB once per piece).
    case combine(bytesPerToken: Int)
}

/// The state of one flow-level all-to-all (`a2a=flows`) while its ranks join, confined to its `EPFlowExchange`;
/// what it books is its `EPFlowPlan`'s.
///
/// Each rank's first-hop flows (its own NVLink sends and IB pieces; in combine its rows to the in-node token
/// ranks and to the relays) are booked when it joins. A source's flows through the same-index GPU of another
/// node (a pair of source and node: the relays of dispatch, the IB send of combine) are booked once the source
/// and every rank of that node have joined, starting when the first piece could leave the relay and ending no
/// earlier than the last piece's own time after the first hop's arrival (the pieces' pipelining). A rank's
/// part is over when every flow it sends or receives has arrived; it is resolved once all those are booked.
final class EPFlowCall {
    let plan: EPFlowPlan
    var kind: EPFlowKind { plan.kind }
    private let placement: ExpertPlacement
    private let cluster: Cluster
    private let nodeCount: Int
    /// When each rank joined (ns; -1: not yet).
    private var joinNs: [Int64]
    private var nodeJoined: [Int]
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

    init(plan: EPFlowPlan, placement: ExpertPlacement, tracksArrivals: Bool) {
        self.plan = plan
        self.placement = placement
        cluster = placement.communicator.cluster
        let ranks = placement.rankCount
        nodeCount = placement.nodeCount
        joinNs = Array(repeating: -1, count: ranks)
        nodeJoined = Array(repeating: 0, count: nodeCount)
        pairBooked = Array(repeating: false, count: ranks * nodeCount)
        pairFirstHopNs = Array(repeating: 0, count: ranks * nodeCount)
        pairSecondHopStartNs = pairFirstHopNs
        pendingPairs = plan.pendingPairs
        doneNs = Array(repeating: 0, count: ranks)
        traffic = Array(repeating: EPTraffic(), count: ranks)
        arrivalNs = tracksArrivals ? Array(repeating: 0, count: ranks * ranks) : []
        resolved = Array(repeating: false, count: ranks)
        parked = Array(repeating: nil, count: ranks)
        if case .counts = plan.kind { published = Array(repeating: nil, count: ranks) } else { published = [] }
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
            for pair in plan.pairsIntoNode[home] where joined(pair / nodeCount) {
                candidates += try bookPair(pair)
            }
        }
        for pair in plan.pairsOfSource[rank] where nodeFull(pair % nodeCount) {
            candidates += try bookPair(pair)
        }
        var done: [Int] = []
        for candidate in candidates where !resolved[candidate] && pendingPairs[candidate] == 0 {
            guard nodeFull(placement.nodeOfRank[candidate]) else { continue }
            resolved[candidate] = true
            done.append(candidate)
        }
        return done
    }

    /// Books `bytes` from rank `from` to rank `to` on `path` starting at `startNs`; returns the arrival (ns).
    private func flow(_ from: Int, _ to: Int, bytes: Int, path: FlowPath, startNs: Int64) throws -> Int64 {
        guard bytes > 0, from != to else { return startNs }
        let arrival = try cluster.bookFlow(on: path, bytes: bytes, startNs: startNs)
        if placement.nodeOfRank[from] == placement.nodeOfRank[to] {
            traffic[from].nvlinkBytes += bytes
        } else {
            traffic[from].ibBytes += bytes
        }
        doneNs[from] = max(doneNs[from], arrival)
        doneNs[to] = max(doneNs[to], arrival)
        return arrival
    }

    /// How long `bytes` take on `path` idle (ns); 0 for none or a rank's flow to itself.
    private func duration(_ from: Int, _ to: Int, bytes: Int, path: FlowPath) throws -> Int64 {
        guard bytes > 0, from != to else { return 0 }
        return try cluster.flowDurationNs(on: path, bytes: bytes)
    }

    private func noteArrival(at rank: Int, from source: Int, _ ns: Int64) {
        guard !arrivalNs.isEmpty else { return }
        let index = rank * placement.rankCount + source
        arrivalNs[index] = max(arrivalNs[index], ns)
    }

    private func bookFirstHops(of rank: Int, nowNs: Int64) throws {
        if case .dispatch = plan.kind { noteArrival(at: rank, from: rank, nowNs) }
        for hop in plan.firstHops[rank] {
            let arrival = try flow(rank, hop.to, bytes: hop.bytes, path: hop.path, startNs: nowNs)
            if hop.marksArrival { noteArrival(at: hop.to, from: rank, arrival) }
            guard hop.pair >= 0 else { continue }
            pairFirstHopNs[hop.pair] = max(pairFirstHopNs[hop.pair], arrival)
            let startNs =
                hop.leadBytes < 0
                ? arrival : nowNs + (try duration(rank, hop.to, bytes: hop.leadBytes, path: hop.path))
            pairSecondHopStartNs[hop.pair] = max(pairSecondHopStartNs[hop.pair], startNs)
        }
    }

    /// Books the second hops of a pair (`source` × nodes + node) through its same-index GPU there; returns
    /// the ranks whose pending pairs went down.
    private func bookPair(_ pair: Int) throws -> [Int] {
        guard !pairBooked[pair] else { return [] }
        pairBooked[pair] = true
        let source = pair / nodeCount
        let firstHop = pairFirstHopNs[pair]
        for hop in plan.secondHops[pair] {
            let startNs = max(joinNs[hop.from], pairSecondHopStartNs[pair])
            let arrival = max(
                try flow(hop.from, hop.to, bytes: hop.bytes, path: hop.path, startNs: startNs),
                firstHop + (try duration(hop.from, hop.to, bytes: hop.lastPieceBytes, path: hop.path)))
            doneNs[hop.to] = max(doneNs[hop.to], arrival)
            doneNs[hop.from] = max(doneNs[hop.from], arrival)
            if hop.marksArrival { noteArrival(at: hop.to, from: source, arrival) }
        }
        let ranks = plan.touched[pair]
        for rank in ranks { pendingPairs[rank] -= 1 }
        return ranks
    }
}
