import Hardware
import SimCore
import Tensors

/// The flow-level transport (`a2a=flows`, phantom runs): each all-to-all joins the layer's `EPFlowExchange`,
/// which books the same bytes per link and leg as the message-level transport sends, and the rank waits until
/// its part is over. The rows are phantom, so only their counts travel.
extension ExpertParallelLayer {
    /// Whether this call's all-to-alls run as flows: the transport says so and the rows are phantom.
    func usesFlows(phantom: Bool) -> Bool { options.transport == .flows && phantom }

    /// The counts exchange as flows: the same messages' bytes (E / nodes × 4 per rank and node) booked to every
    /// rank of the node and once per other node over IB, relayed there; then every source's layout (the flow
    /// exchange carries them, as the counts would).
    func exchangeCountsAsFlows(_ layout: SourceLayout, tagBase: Int, traffic: inout EPTraffic) async throws
        -> [SourceLayout]
    {
        let bytes = placement.expertCount / placement.nodeCount * DType.fp32.bytesPerElement
        // The flow exchange resolves a counts call once every rank has joined with its layout.
        let result = try await flowExchange.join(
            key: tag(tagBase, EPLegs.counts, 0), rank: layout.rank, kind: .counts(bytes: bytes), layouts: [],
            tracksArrivals: false, layout: layout)
        traffic = traffic + result.traffic
        try await waitUntil(result.completionNs)
        guard result.layouts.count == placement.rankCount else {
            throw ExpertParallelError.invalid(
                "tag base", "\(tagBase)", "\(result.layouts.count) of \(placement.rankCount) ranks have routed")
        }
        return result.layouts
    }

    /// `dispatchRows` as flows: per source with rows for this rank, phantom rows of its slot count;
    /// `onArrival(source)` runs at each source's arrival, in arrival order.
    func dispatchAsFlows(
        rank: Int, outgoing: [Tensor?], layouts: [SourceLayout], legs: EPLegs, bytesPerToken: Int, tagBase: Int,
        onArrival: (@Sendable (Int) async throws -> Void)?
    ) async throws -> (rows: [Tensor?], traffic: EPTraffic) {
        let result = try await flowExchange.join(
            key: tag(tagBase, legs.direct, 0), rank: rank, kind: .dispatch(bytesPerToken: bytesPerToken),
            layouts: layouts, tracksArrivals: onArrival != nil)
        let dtype = outgoing.lazy.compactMap { $0 }.first?.dtype ?? .fp32
        // A kept set holds an earlier call's own rows: the same shape, which the layouts and width fix.
        let received = try phantomRowSet(.dispatched, rank: rank, width: hiddenSize, dtype: dtype, layouts: layouts) {
            var received = [Tensor?](repeating: nil, count: placement.rankCount)
            for source in layouts.indices where !layouts[source].slotsToRank[rank].isEmpty {
                received[source] =
                    source == rank
                    ? outgoing[rank]
                    : try Tensor(phantom: [layouts[source].slotsToRank[rank].count, hiddenSize], dtype: dtype)
            }
            return received
        }
        if let onArrival {
            let sources = received.indices.filter { received[$0] != nil }
            for source in sources.sorted(by: { (result.arrivalNs[$0], $0) < (result.arrivalNs[$1], $1) }) {
                try await waitUntil(result.arrivalNs[source])
                try await onArrival(source)
            }
        }
        try await waitUntil(result.completionNs)
        return (received, result.traffic)
    }

    /// `combineRows` as flows: per expert rank with rows of this rank's slots, phantom rows of their count.
    func combineAsFlows(
        rank: Int, outgoing: [Tensor?], layouts: [SourceLayout], legs: EPLegs, bytesPerToken: Int, tagBase: Int
    ) async throws -> (rows: [Tensor?], traffic: EPTraffic) {
        let result = try await flowExchange.join(
            key: tag(tagBase, legs.direct, 0), rank: rank, kind: .combine(bytesPerToken: bytesPerToken),
            layouts: layouts, tracksArrivals: false)
        let mine = layouts[rank]
        let dtype = outgoing.lazy.compactMap { $0 }.first?.dtype ?? .fp32
        let received = try phantomRowSet(
            .combined, rank: rank, width: hiddenSize, dtype: dtype, layouts: CollectionOfOne(mine)
        ) {
            var received = [Tensor?](repeating: nil, count: placement.rankCount)
            for target in mine.slotsToRank.indices where !mine.slotsToRank[target].isEmpty {
                received[target] =
                    target == rank
                    ? outgoing[rank] : try Tensor(phantom: [mine.slotsToRank[target].count, hiddenSize], dtype: dtype)
            }
            return received
        }
        try await waitUntil(result.completionNs)
        return (received, result.traffic)
    }

    private func waitUntil(_ ns: Int64) async throws {
        let clock = communicator.cluster.simulation.clock
        if ns > clock.now.nanosecondsSinceStart { try await clock.sleep(until: SimInstant(nanosecondsSinceStart: ns)) }
    }
}
