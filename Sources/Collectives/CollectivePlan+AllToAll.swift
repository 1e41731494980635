/// All-to-all(v): `counts[s][t]` elements go from rank s to rank t; rank t's output is what every rank sent it,
/// in source rank order. Empty pieces send no message.
extension CollectivePlan {
    /// Pairwise exchange in p-1 steps: at step k rank r sends its piece for r+k and receives r-k's piece for it.
    public static func allToAll(counts: [[Int]], slicing: Slicing = .whole) throws -> CollectivePlan {
        let layout = try AllToAllLayout(counts: counts, slicing: slicing)
        let p = counts.count
        let programs = (0..<p).map { rank in
            var actions: [Action] = zip(layout.input[rank][rank], layout.output[rank][rank]).map {
                .copy(from: $0, to: $1)
            }
            for step in 1..<max(p, 1) {
                let target = (rank + step) % p
                let source = (rank + p - step) % p
                actions += layout.input[rank][target].map { .send(blocks: [$0], toRank: target, tag: 0) }
                actions += layout.output[rank][source].map {
                    .receive(blocks: [$0], fromRank: source, tag: 0, combine: .store)
                }
            }
            return layout.program(rank: rank, actions: actions)
        }
        return CollectivePlan(name: "pairwise all-to-all", programs: programs)
    }

    /// The largest group a hierarchical all-to-all plan is built for.
    public static let maxHierarchicalRanks = 128

    /// Hierarchical all-to-all over ranks on several nodes: each rank sends, per other node, one message (over
    /// IB) with everything for that node to the rank there with its own in-node index, which forwards each piece
    /// over NVLink; pieces within a node go directly. `nodes[r]` and `localIndices[r]` place rank r; every node
    /// must hold ranks with the same set of in-node indices.
    ///
    /// Tags: 0 direct in-node pieces, 1 the per-node bundles, 2 forwarded pieces.
    public static func hierarchicalAllToAll(counts: [[Int]], nodes: [Int], localIndices: [Int]) throws
        -> CollectivePlan
    {
        let p = counts.count
        // The plan's staging layout is p × p × p; beyond this it would take seconds and gigabytes to build.
        try CollectiveError.require(
            p <= maxHierarchicalRanks, "hierarchical all-to-all rank count", p,
            "at most \(maxHierarchicalRanks) ranks (its plan grows as p³); use pairwise for larger groups")
        try CollectiveError.require(
            nodes.count == p && localIndices.count == p, "placement count", "\(nodes.count), \(localIndices.count)",
            "needs one node and one in-node index per rank (\(p))")
        // A rank stages what a same-index rank on another node sends to the rank's node neighbours.
        let layout = try AllToAllLayout(counts: counts, slicing: .whole) { rank, source, target in
            nodes[source] != nodes[rank] && localIndices[source] == localIndices[rank] && nodes[target] == nodes[rank]
                && target != rank
        }
        let sortedNodes = nodes.sorted()
        let nodeList = sortedNodes.indices.filter { $0 == 0 || sortedNodes[$0 - 1] != sortedNodes[$0] }.map {
            sortedNodes[$0]
        }
        let members = nodeList.map { node in (0..<p).filter { nodes[$0] == node } }
        var rankAt: [Placement: Int] = [:]  // lookup only, never iterated
        for rank in 0..<p { rankAt[Placement(node: nodes[rank], local: localIndices[rank])] = rank }
        /// The rank on `node` with `rank`'s in-node index.
        func proxy(of rank: Int, on node: Int) throws -> Int {
            guard let match = rankAt[Placement(node: node, local: localIndices[rank])] else {
                throw CollectiveError.unsupportedAlgorithm(
                    kind: "all-to-all", algorithm: "hierarchical",
                    reason: "node \(node) has no rank with in-node index \(localIndices[rank]) (rank \(rank) has it)")
            }
            return match
        }
        let programs = try (0..<p).map { rank in
            let home = nodes[rank]
            let homeIndex = nodeList.firstIndex(of: home) ?? 0
            let others = nodeList.indices.filter { $0 != homeIndex }
            var actions: [Action] = zip(layout.input[rank][rank], layout.output[rank][rank]).map {
                .copy(from: $0, to: $1)
            }
            for other in others {
                let bundle = members[other].flatMap { layout.input[rank][$0] }
                if !bundle.isEmpty {
                    actions.append(.send(blocks: bundle, toRank: try proxy(of: rank, on: nodeList[other]), tag: 1))
                }
            }
            let neighbours = members[homeIndex].filter { $0 != rank }
            for target in neighbours {
                actions += layout.input[rank][target].map { .send(blocks: [$0], toRank: target, tag: 0) }
            }
            for other in others {
                let origin = try proxy(of: rank, on: nodeList[other])
                let bundle = members[homeIndex].flatMap {
                    $0 == rank ? layout.output[rank][origin] : layout.staging[rank][origin][$0]
                }
                guard !bundle.isEmpty else { continue }
                actions.append(.receive(blocks: bundle, fromRank: origin, tag: 1, combine: .store))
                for target in neighbours {
                    actions += layout.staging[rank][origin][target].map { .send(blocks: [$0], toRank: target, tag: 2) }
                }
            }
            for source in neighbours {
                actions += layout.output[rank][source].map {
                    .receive(blocks: [$0], fromRank: source, tag: 0, combine: .store)
                }
            }
            for other in others {
                for forwarder in neighbours {
                    let source = try proxy(of: forwarder, on: nodeList[other])
                    actions += layout.output[rank][source].map {
                        .receive(blocks: [$0], fromRank: forwarder, tag: 2, combine: .store)
                    }
                }
            }
            return layout.program(rank: rank, actions: actions)
        }
        return CollectivePlan(name: "hierarchical all-to-all", programs: programs)
    }
}

/// A rank's node and in-node index.
private struct Placement: Hashable {
    let node: Int
    let local: Int
}

/// Buffer blocks of an all-to-all: per rank, its pieces for each target, the pieces from each source, and
/// (hierarchical) staging for pieces it forwards from a source to a target. Empty pieces have no block.
private struct AllToAllLayout {
    var blockElementCounts: [[Int]]
    /// input[r][t]: rank r's blocks holding its piece for t.
    var input: [[[Int]]]
    /// output[r][s]: rank r's blocks receiving s's piece.
    var output: [[[Int]]]
    /// staging[r][s][t]: rank r's block holding s's piece for t while r forwards it.
    var staging: [[[[Int]]]]

    /// `stages(r, s, t)` says whether rank r forwards s's piece for t.
    init(counts: [[Int]], slicing: Slicing, stages: ((Int, Int, Int) -> Bool)? = nil) throws {
        let p = counts.count
        try CollectiveError.require(p >= 1, "all-to-all counts", "[]", "need at least one rank")
        if let row = counts.firstIndex(where: { $0.count != p }) {
            throw CollectiveError.invalidArgument(
                name: "all-to-all counts row \(row)", value: "\(counts[row].count) entries", reason: "must have \(p)")
        }
        if let bad = counts.joined().first(where: { $0 < 0 }) {
            throw CollectiveError.invalidArgument(
                name: "all-to-all count", value: "\(bad)", reason: "must not be negative")
        }
        blockElementCounts = Array(repeating: [], count: p)
        input = Array(repeating: [], count: p)
        output = Array(repeating: [], count: p)
        staging = Array(repeating: Array(repeating: Array(repeating: [], count: p), count: p), count: p)
        for rank in 0..<p {
            func add(_ elements: Int) -> [Int] {
                guard elements > 0 else { return [] }
                return CollectivePlan.evenSplit(elements, into: slicing.sliceCount(elements: elements)).map {
                    blockElementCounts[rank].append($0)
                    return blockElementCounts[rank].count - 1
                }
            }
            input[rank] = (0..<p).map { add(counts[rank][$0]) }
            output[rank] = (0..<p).map { add(counts[$0][rank]) }
            if let stages {
                for source in 0..<p {
                    staging[rank][source] = (0..<p).map { stages(rank, source, $0) ? add(counts[source][$0]) : [] }
                }
            }
        }
    }

    func program(rank: Int, actions: [CollectivePlan.Action]) -> CollectivePlan.RankProgram {
        CollectivePlan.RankProgram(
            blockElementCounts: blockElementCounts[rank], inputBlocks: input[rank].flatMap { $0 },
            outputBlocks: output[rank].flatMap { $0 }, actions: actions)
    }
}
