import Collectives

/// A stage worker's place among the data-parallel copies of its pipeline rank (the composed PP × DP trainer).
///
/// Every GPU of `group` holds the same stage copies and runs the same schedule on its own micro-batches; after
/// the schedule ZeRO-1 reduce-scatters each copy's gradient over the group, runs AdamW on the worker's shard
/// and all-gathers the updated shards.
struct StageDataParallel: Sendable {
    /// The DP group of this pipeline rank: rank d is data-parallel index d.
    let group: Communicator
    /// This worker's rank in `group` (its data-parallel index).
    let dataIndex: Int
    /// The first collective tag; copy k uses `tagBase + 2k·tagStride` (reduce-scatter) and the next base
    /// (all-gather), reused every step (the step barrier keeps steps apart).
    static let tagBase = 1 << 29

    /// DP_total.
    var size: Int { group.size }

    /// The owned range of a flat vector of `count` elements (the even split, as the reduce-scatter cuts it).
    func shard(of count: Int) -> Range<Int> {
        let counts = CollectivePlan.evenSplit(count, into: size)
        let start = counts[..<dataIndex].reduce(0, +)
        return start..<(start + counts[dataIndex])
    }

    /// The runner of copy `copy`'s reduce-scatter (`phase` 0) or all-gather (`phase` 1).
    func runner(copy: Int, phase: Int) -> CollectiveRunner {
        CollectiveRunner(
            communicator: group, tagBase: Self.tagBase + CollectiveRunner.tagStride * (2 * copy + phase))
    }
}
