import Hardware
import Tensors

/// Bytes one rank put on each kind of wire.
public struct EPTraffic: Sendable, Hashable {
    /// Bytes sent across InfiniBand.
    public var ibBytes = 0
    /// Bytes sent across NVLink.
    public var nvlinkBytes = 0

    /// No bytes.
    public init() {}

    static func + (lhs: EPTraffic, rhs: EPTraffic) -> EPTraffic {
        var sum = lhs
        sum.ibBytes += rhs.ibBytes
        sum.nvlinkBytes += rhs.nvlinkBytes
        return sum
    }
}

/// The three message legs of one direction of travel; their tags are `tagBase + leg · 2^16 + source rank`.
struct EPLegs: Sendable {
    /// Token rank ↔ expert rank inside a node.
    let direct: Int
    /// Across IB, once per token and node.
    let ib: Int
    /// Between the same-index GPU and the expert rank, inside the expert's node.
    let relay: Int

    static let counts = 0
    /// Counts relayed by the same-index GPU of another node.
    static let countsRelay = 13
    static let dispatch = EPLegs(direct: 1, ib: 2, relay: 3)
    static let combine = EPLegs(direct: 4, ib: 5, relay: 6)
    static let gradientDispatch = EPLegs(direct: 7, ib: 8, relay: 9)
    static let gradientCombine = EPLegs(direct: 10, ib: 11, relay: 12)
    /// Legs of one set (a wave or column block takes its own set: `sub(index)`).
    static let legCount = 14
    /// Tags one layer call spans: a set of legs per wave or column block.
    static let tagSpan = (legCount * WavePlan.maxWaves) << 16

    /// The legs of wave or column block `index` (0: these legs).
    func sub(_ index: Int) -> EPLegs {
        let offset = Self.legCount * index
        return EPLegs(direct: direct + offset, ib: ib + offset, relay: relay + offset)
    }
}

extension ExpertParallelLayer {
    private enum Partial: Sendable {
        case rows(source: Int, Tensor)
        case traffic(EPTraffic)
    }

    func tag(_ tagBase: Int, _ leg: Int, _ source: Int) -> Int { tagBase + (leg << 16) + source }

    private func kind(from a: Int, to b: Int) -> (ib: Bool, local: Bool) {
        (placement.nodeOfRank[a] != placement.nodeOfRank[b], a == b)
    }

    private func count(_ bytes: Int, from a: Int, to b: Int) -> EPTraffic {
        var traffic = EPTraffic()
        let (ib, local) = kind(from: a, to: b)
        if ib { traffic.ibBytes = bytes } else if !local { traffic.nvlinkBytes = bytes }
        return traffic
    }

    /// The rows of `rows` at `indices()`; for a phantom tensor, `count` phantom rows without computing the indices.
    private static func gathering(_ rows: Tensor, count: Int, _ indices: () -> [Int]) throws -> Tensor {
        guard rows.isPhantom else { return try rows.gatheringRows(indices()) }
        return try Tensor(phantom: [count] + rows.shape.dropFirst(), dtype: rows.dtype)
    }

    private static func concatenated(_ parts: [Tensor], width: Int, phantom: Bool) throws -> Tensor {
        if parts.isEmpty { return phantom ? try Tensor(phantom: [0, width]) : try Tensor(zeros: [0, width]) }
        return parts.count == 1 ? parts[0] : try Tensor.concatenatingRows(parts)
    }

    /// Moves rows from token ranks to expert ranks: `outgoing[x]` holds this rank's slots for rank x in
    /// canonical order; returns, per source rank, that source's rows for this rank in canonical order.
    ///
    /// Inside the node each message goes direct over NVLink; to another node each IB piece goes once to the
    /// GPU with this rank's in-node index, which relays each expert rank's part over NVLink as it arrives.
    /// `onArrival(source)` runs once per source with rows for this rank, as they arrive (this rank's own first).
    func dispatchRows(
        rank: Int, outgoing: [Tensor?], layouts: [SourceLayout], legs: EPLegs, bytesPerToken: Int, tagBase: Int,
        phantom: Bool, onArrival: (@Sendable (Int) async throws -> Void)? = nil
    ) async throws -> (rows: [Tensor?], traffic: EPTraffic) {
        if usesFlows(phantom: phantom) {
            return try await dispatchAsFlows(
                rank: rank, outgoing: outgoing, layouts: layouts, legs: legs, bytesPerToken: bytesPerToken,
                tagBase: tagBase, onArrival: onArrival)
        }
        let gpu = try communicator.gpu(rank: rank)
        let ids = communicator.ranks
        let home = placement.nodeOfRank[rank]
        let mine = layouts[rank]
        let width = hiddenSize
        let members = placement.ranksOfNode
        return try await withThrowingTaskGroup(of: Partial.self) { group in
            group.addTask {
                var handles: [SendHandle] = []
                var traffic = EPTraffic()
                for target in members[home] where target != rank && !mine.slotsToRank[target].isEmpty {
                    guard let rows = outgoing[target] else { continue }
                    let bytes = mine.distinctTokensToRank[target] * bytesPerToken
                    handles.append(
                        try await gpu.startSend(
                            rows, to: ids[target], tag: tag(tagBase, legs.direct, rank), wireBytes: bytes))
                    traffic = traffic + count(bytes, from: rank, to: target)
                }
                for handle in handles { try await handle.wait() }
                return .traffic(traffic)
            }
            for node in members.indices where node != home && !mine.pieces[node].isEmpty {
                group.addTask {
                    let proxy = placement.proxy(of: rank, onNode: node)
                    var inFlight: [SendHandle] = []
                    var traffic = EPTraffic()
                    for piece in mine.pieces[node] {
                        var parts: [Tensor] = []
                        for (position, part) in piece.parts.enumerated() where !part.isEmpty {
                            guard let rows = outgoing[members[node][position]] else { continue }
                            parts.append(
                                try Self.gathering(rows, count: part.count) { part.map { mine.canonicalIndex[$0] } })
                        }
                        let bytes = piece.distinctTokens * bytesPerToken
                        let content = try Self.concatenated(parts, width: width, phantom: phantom)
                        if inFlight.count >= options.piecesInFlight { try await inFlight.removeFirst().wait() }
                        inFlight.append(
                            try await gpu.startSend(
                                content, to: ids[proxy], tag: tag(tagBase, legs.ib, rank), wireBytes: bytes))
                        traffic = traffic + count(bytes, from: rank, to: proxy)
                    }
                    for handle in inFlight { try await handle.wait() }
                    return .traffic(traffic)
                }
            }
            for source in 0..<placement.rankCount
            where placement.nodeOfRank[source] != home
                && placement.localIndexOfRank[source] == placement.localIndexOfRank[rank]
            {
                let layout = layouts[source]
                guard !layout.pieces[home].isEmpty else { continue }
                group.addTask {
                    var handles: [SendHandle] = []
                    var traffic = EPTraffic()
                    for piece in layout.pieces[home] {
                        let content = try await gpu.receive(from: ids[source], tag: tag(tagBase, legs.ib, source))
                        var row = 0
                        for (position, part) in piece.parts.enumerated() where !part.isEmpty {
                            let target = members[home][position]
                            let slice = try content.slicingRows(row..<(row + part.count))
                            row += part.count
                            let bytes = piece.partDistinctTokens[position] * bytesPerToken
                            handles.append(
                                try await gpu.startSend(
                                    slice, to: ids[target], tag: tag(tagBase, legs.relay, source), wireBytes: bytes))
                            traffic = traffic + count(bytes, from: rank, to: target)
                        }
                    }
                    for handle in handles { try await handle.wait() }
                    return .traffic(traffic)
                }
            }
            var received = [Tensor?](repeating: nil, count: placement.rankCount)
            received[rank] = mine.slotsToRank[rank].isEmpty ? nil : outgoing[rank]
            if received[rank] != nil { try await onArrival?(rank) }
            let position = placement.positionInNode(rank)
            for source in 0..<placement.rankCount where source != rank {
                let layout = layouts[source]
                guard !layout.slotsToRank[rank].isEmpty else { continue }
                if placement.nodeOfRank[source] == home {
                    received[source] = try await gpu.receive(from: ids[source], tag: tag(tagBase, legs.direct, source))
                    try await onArrival?(source)
                    continue
                }
                let proxy = placement.proxy(of: source, onNode: home)
                var parts: [Tensor] = []
                var order: [Int] = []
                for piece in layout.pieces[home] where !piece.parts[position].isEmpty {
                    parts.append(try await gpu.receive(from: ids[proxy], tag: tag(tagBase, legs.relay, source)))
                    order += piece.parts[position]
                }
                let combined = try Self.concatenated(parts, width: width, phantom: phantom)
                received[source] = try Self.gathering(combined, count: layout.slotsToRank[rank].count) {
                    SourceLayout.gatherIndices(
                        canonical: layout.slotsToRank[rank], combined: order, slotCount: layout.canonicalIndex.count)
                }
                try await onArrival?(source)
            }
            var traffic = EPTraffic()
            for try await partial in group {
                if case .traffic(let part) = partial { traffic = traffic + part }
            }
            return (received, traffic)
        }
    }

    /// Moves rows back from expert ranks to token ranks on the reverse path: `outgoing[s]` holds this rank's
    /// rows for source s's slots in s's canonical order; returns, per expert rank, its rows for this rank's slots
    /// in canonical order.
    ///
    /// Inside the node each message goes direct; from another node the expert ranks send their parts of each
    /// piece to the GPU there with the source's in-node index, which sends the piece over IB once.
    func combineRows(
        rank: Int, outgoing: [Tensor?], layouts: [SourceLayout], legs: EPLegs, bytesPerToken: Int, tagBase: Int,
        phantom: Bool
    ) async throws -> (rows: [Tensor?], traffic: EPTraffic) {
        if usesFlows(phantom: phantom) {
            return try await combineAsFlows(
                rank: rank, outgoing: outgoing, layouts: layouts, legs: legs, bytesPerToken: bytesPerToken,
                tagBase: tagBase)
        }
        let gpu = try communicator.gpu(rank: rank)
        let ids = communicator.ranks
        let home = placement.nodeOfRank[rank]
        let mine = layouts[rank]
        let width = hiddenSize
        let members = placement.ranksOfNode
        let position = placement.positionInNode(rank)
        return try await withThrowingTaskGroup(of: Partial.self) { group in
            group.addTask {
                // Piece by piece across all sources, a bounded number in flight, so the relays can send the
                // first pieces over IB while the later ones are still crossing NVLink.
                var messages: [(piece: Int, source: Int, rows: Tensor, target: Int, tag: Int, bytes: Int)] = []
                for source in 0..<placement.rankCount where source != rank {
                    let layout = layouts[source]
                    guard !layout.slotsToRank[rank].isEmpty, let rows = outgoing[source] else { continue }
                    if placement.nodeOfRank[source] == home {
                        let bytes = layout.distinctTokensToRank[rank] * bytesPerToken
                        messages.append((0, source, rows, source, tag(tagBase, legs.direct, source), bytes))
                        continue
                    }
                    let proxy = placement.proxy(of: source, onNode: home)
                    for (index, piece) in layout.pieces[home].enumerated() where !piece.parts[position].isEmpty {
                        let part = try Self.gathering(rows, count: piece.parts[position].count) {
                            piece.parts[position].map { layout.canonicalIndex[$0] }
                        }
                        let bytes = piece.partDistinctTokens[position] * bytesPerToken
                        messages.append((index, source, part, proxy, tag(tagBase, legs.relay, source), bytes))
                    }
                }
                messages.sort { ($0.piece, $0.source) < ($1.piece, $1.source) }
                var inFlight: [SendHandle] = []
                var traffic = EPTraffic()
                for message in messages {
                    if inFlight.count >= options.relayWindow { try await inFlight.removeFirst().wait() }
                    inFlight.append(
                        try await gpu.startSend(
                            message.rows, to: ids[message.target], tag: message.tag, wireBytes: message.bytes))
                    traffic = traffic + count(message.bytes, from: rank, to: message.target)
                }
                for handle in inFlight { try await handle.wait() }
                return .traffic(traffic)
            }
            for source in 0..<placement.rankCount
            where placement.nodeOfRank[source] != home
                && placement.localIndexOfRank[source] == placement.localIndexOfRank[rank]
            {
                let layout = layouts[source]
                guard !layout.pieces[home].isEmpty else { continue }
                group.addTask {
                    var inFlight: [SendHandle] = []
                    var traffic = EPTraffic()
                    for piece in layout.pieces[home] {
                        var parts: [Tensor] = []
                        for (index, part) in piece.parts.enumerated() where !part.isEmpty {
                            parts.append(
                                try await gpu.receive(
                                    from: ids[members[home][index]], tag: tag(tagBase, legs.relay, source)))
                        }
                        let bytes = piece.distinctTokens * bytesPerToken
                        let content = try Self.concatenated(parts, width: width, phantom: phantom)
                        if inFlight.count >= options.piecesInFlight { try await inFlight.removeFirst().wait() }
                        inFlight.append(
                            try await gpu.startSend(
                                content, to: ids[source], tag: tag(tagBase, legs.ib, source), wireBytes: bytes))
                        traffic = traffic + count(bytes, from: rank, to: source)
                    }
                    for handle in inFlight { try await handle.wait() }
                    return .traffic(traffic)
                }
            }
            var received = [Tensor?](repeating: nil, count: placement.rankCount)
            received[rank] = mine.slotsToRank[rank].isEmpty ? nil : outgoing[rank]
            for target in members[home] where target != rank && !mine.slotsToRank[target].isEmpty {
                received[target] = try await gpu.receive(from: ids[target], tag: tag(tagBase, legs.direct, rank))
            }
            for node in members.indices where node != home && !mine.pieces[node].isEmpty {
                let proxy = placement.proxy(of: rank, onNode: node)
                var parts: [Tensor] = []
                var order: [Int] = []
                for piece in mine.pieces[node] {
                    parts.append(try await gpu.receive(from: ids[proxy], tag: tag(tagBase, legs.ib, rank)))
                    order += piece.parts.flatMap { $0 }
                }
                let combined = try Self.concatenated(parts, width: width, phantom: phantom)
                for target in members[node] where !mine.slotsToRank[target].isEmpty {
                    received[target] = try Self.gathering(combined, count: mine.slotsToRank[target].count) {
                        SourceLayout.gatherIndices(
                            canonical: mine.slotsToRank[target], combined: order, slotCount: mine.canonicalIndex.count)
                    }
                }
            }
            var traffic = EPTraffic()
            for try await partial in group {
                if case .traffic(let part) = partial { traffic = traffic + part }
            }
            return (received, traffic)
        }
    }
}
