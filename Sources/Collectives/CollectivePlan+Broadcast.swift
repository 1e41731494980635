/// Broadcast and point-to-point transfers.
extension CollectivePlan {
    /// Pipelined chain broadcast: ranks root, root+1, … pass the `elementCount` elements along in slices, each
    /// rank forwarding a slice as soon as it has it and keeping at most two of its sends in flight. Only the
    /// root has an input; every rank's output is the root's buffer.
    public static func broadcast(
        rankCount: Int, root: Int, elementCount: Int, slicing: Slicing = .whole
    ) throws -> CollectivePlan {
        try CollectiveError.require(rankCount >= 1, "rank count", rankCount, "must be at least 1")
        try CollectiveError.require((0..<rankCount).contains(root), "root", root, "must be a rank in 0..<\(rankCount)")
        try CollectiveError.require(elementCount >= 0, "element count", elementCount, "must not be negative")
        let counts = evenSplit(elementCount, into: slicing.sliceCount(elements: elementCount))
        let blocks = Array(counts.indices)
        let programs = (0..<rankCount).map { rank in
            let position = (rank - root + rankCount) % rankCount
            let previous = (rank + rankCount - 1) % rankCount
            let next = (rank + 1) % rankCount
            var actions: [Action] = []
            for block in blocks {
                if position > 0 {
                    actions.append(.receive(blocks: [block], fromRank: previous, tag: 0, combine: .store))
                }
                if position < rankCount - 1 {
                    actions += [.waitSends(leaving: 1), .send(blocks: [block], toRank: next, tag: 0)]
                }
            }
            return RankProgram(
                blockElementCounts: counts, inputBlocks: position == 0 ? blocks : [], outputBlocks: blocks,
                actions: actions)
        }
        return CollectivePlan(name: "chain broadcast", programs: programs)
    }

    /// One message of `elementCount` elements from rank `source` to rank `target`; only they have buffers (the
    /// source an input, the target an output).
    public static func sendReceive(rankCount: Int, from source: Int, to target: Int, elementCount: Int) throws
        -> CollectivePlan
    {
        try CollectiveError.require(
            (0..<rankCount).contains(source), "source rank", source, "must be a rank in 0..<\(rankCount)")
        try CollectiveError.require(
            (0..<rankCount).contains(target) && target != source, "target rank", target,
            "must be a rank in 0..<\(rankCount) other than the source")
        try CollectiveError.require(elementCount >= 0, "element count", elementCount, "must not be negative")
        let programs = (0..<rankCount).map { rank in
            RankProgram(
                blockElementCounts: [elementCount], inputBlocks: rank == source ? [0] : [],
                outputBlocks: rank == target ? [0] : [],
                actions: rank == source
                    ? [.send(blocks: [0], toRank: target, tag: 0)]
                    : rank == target ? [.receive(blocks: [0], fromRank: source, tag: 0, combine: .store)] : [])
        }
        return CollectivePlan(name: "send/receive", programs: programs)
    }
}
