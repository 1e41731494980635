/// Ring reduce-scatter, all-gather and all-reduce: p-1 steps per phase, each rank sending one ring block (cut
/// into slices) to rank r+1 and receiving one from rank r-1.
extension CollectivePlan {
    /// Ring reduce-scatter of `elementCount` elements per rank: rank r ends with ring block r (the counts of
    /// `evenSplit(elementCount, into: p)`, so uneven lengths are allowed) reduced over all ranks.
    public static func reduceScatter(
        rankCount: Int, elementCount: Int, op: ReduceOp = .sum, slicing: Slicing = .whole
    ) throws -> CollectivePlan {
        try ringReduction(rankCount: rankCount, elementCount: elementCount, op: op, slicing, thenAllGather: false)
    }

    /// Ring reduce-scatter with ring block j of `blockCounts[j]` elements (the input of every rank is their sum):
    /// rank r ends with block r reduced over all ranks. Uneven blocks serve shard layouts that are not an even
    /// split of one vector.
    public static func reduceScatter(
        blockCounts: [Int], op: ReduceOp = .sum, slicing: Slicing = .whole, onlyRank: Int? = nil
    ) throws -> CollectivePlan {
        let ring = try Ring(rankCount: blockCounts.count, blockCounts: blockCounts, slicing)
        let programs = rankPrograms(blockCounts.count, onlyRank: onlyRank) { rank in
            ring.program(
                input: ring.allBlocks, output: ring.blocks(ofRing: rank),
                actions: ring.reduceScatterPhase(rank: rank) + ring.averaging(rank: rank, op: op))
        }
        return CollectivePlan(name: "ring reduce-scatter", programs: programs)
    }

    /// Ring all-gather: rank r contributes `elementCounts[r]` elements and ends with everyone's, in rank order.
    public static func allGather(elementCounts: [Int], slicing: Slicing = .whole, onlyRank: Int? = nil) throws
        -> CollectivePlan
    {
        let ring = try Ring(rankCount: elementCounts.count, blockCounts: elementCounts, slicing)
        let programs = rankPrograms(elementCounts.count, onlyRank: onlyRank) { rank in
            ring.program(
                input: ring.blocks(ofRing: rank), output: ring.allBlocks, actions: ring.allGatherPhase(rank: rank))
        }
        return CollectivePlan(name: "ring all-gather", programs: programs)
    }

    /// Ring all-reduce of `elementCount` elements per rank: a reduce-scatter, then an all-gather of the reduced
    /// blocks; every rank ends with identical values.
    public static func allReduce(
        rankCount: Int, elementCount: Int, op: ReduceOp = .sum, slicing: Slicing = .whole, onlyRank: Int? = nil
    ) throws -> CollectivePlan {
        try ringReduction(
            rankCount: rankCount, elementCount: elementCount, op: op, slicing, thenAllGather: true, onlyRank: onlyRank)
    }

    /// Every rank's program from `build`, or (`onlyRank` set) only that rank's, the others empty: a plan for
    /// per-rank execution, where each rank builds what it runs (building all p programs on each of p ranks
    /// would cost p² actions per collective).
    static func rankPrograms(_ count: Int, onlyRank: Int?, _ build: (Int) -> RankProgram) -> [RankProgram] {
        (0..<count).map { rank in
            guard let onlyRank, rank != onlyRank else { return build(rank) }
            return RankProgram(blockElementCounts: [], inputBlocks: [], outputBlocks: [], actions: [])
        }
    }

    /// A reduce-scatter, optionally followed by the all-gather that makes it an all-reduce.
    private static func ringReduction(
        rankCount: Int, elementCount: Int, op: ReduceOp, _ slicing: Slicing, thenAllGather: Bool,
        onlyRank: Int? = nil
    ) throws -> CollectivePlan {
        let ring = try Ring(rankCount: rankCount, blockCounts: evenSplit(elementCount, into: rankCount), slicing)
        let programs = rankPrograms(rankCount, onlyRank: onlyRank) { rank in
            let reduction = ring.reduceScatterPhase(rank: rank) + ring.averaging(rank: rank, op: op)
            return ring.program(
                input: ring.allBlocks, output: thenAllGather ? ring.allBlocks : ring.blocks(ofRing: rank),
                actions: thenAllGather ? reduction + ring.allGatherPhase(rank: rank) : reduction)
        }
        return CollectivePlan(name: thenAllGather ? "ring all-reduce" : "ring reduce-scatter", programs: programs)
    }
}

/// The block layout of a ring: ring block j is `slicesPerBlock` consecutive buffer blocks.
private struct Ring {
    let rankCount: Int
    let slicesPerBlock: Int
    let blockElementCounts: [Int]

    init(rankCount: Int, blockCounts: [Int], _ slicing: Slicing) throws {
        try CollectiveError.require(rankCount >= 1, "rank count", rankCount, "must be at least 1")
        if let bad = blockCounts.first(where: { $0 < 0 }) {
            throw CollectiveError.invalidArgument(
                name: "element count", value: "\(bad)", reason: "must not be negative")
        }
        self.rankCount = rankCount
        slicesPerBlock = slicing.sliceCount(elements: blockCounts.max() ?? 0)
        blockElementCounts = blockCounts.flatMap { [slices = slicesPerBlock] in
            CollectivePlan.evenSplit($0, into: slices)
        }
    }

    var allBlocks: [Int] { Array(blockElementCounts.indices) }

    /// The buffer blocks of ring block `index` (taken modulo p).
    func blocks(ofRing index: Int) -> [Int] {
        let ringIndex = ((index % rankCount) + rankCount) % rankCount
        return Array((ringIndex * slicesPerBlock)..<((ringIndex + 1) * slicesPerBlock))
    }

    func program(input: [Int], output: [Int], actions: [CollectivePlan.Action]) -> CollectivePlan.RankProgram {
        CollectivePlan.RankProgram(
            blockElementCounts: blockElementCounts, inputBlocks: input, outputBlocks: output, actions: actions)
    }

    /// Step s sends ring block r-s-1 and adds the incoming ring block r-s-2; rank r ends owning block r.
    func reduceScatterPhase(rank: Int) -> [CollectivePlan.Action] {
        phase(rank: rank, sendOffset: 1, combine: .sum)
    }

    /// Step s forwards ring block r-s and stores the incoming ring block r-s-1, starting from block r.
    func allGatherPhase(rank: Int) -> [CollectivePlan.Action] {
        phase(rank: rank, sendOffset: 0, combine: .store)
    }

    /// The division of an average, on the ring block the rank owns after its reduce-scatter.
    func averaging(rank: Int, op: ReduceOp) -> [CollectivePlan.Action] {
        guard op == .average, rankCount > 1 else { return [] }
        return blocks(ofRing: rank).map { .scale(block: $0, factor: 1 / Float(rankCount)) }
    }

    private func phase(rank: Int, sendOffset: Int, combine: CollectivePlan.Combine) -> [CollectivePlan.Action] {
        let right = (rank + 1) % rankCount
        let left = (rank + rankCount - 1) % rankCount
        return (0..<max(0, rankCount - 1)).flatMap { step -> [CollectivePlan.Action] in
            let sends = blocks(ofRing: rank - step - sendOffset).map {
                CollectivePlan.Action.send(blocks: [$0], toRank: right, tag: 0)
            }
            let receives = blocks(ofRing: rank - step - sendOffset - 1).map {
                CollectivePlan.Action.receive(blocks: [$0], fromRank: left, tag: 0, combine: combine)
            }
            return sends + receives
        }
    }
}
