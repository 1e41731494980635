import MoEModel
import Tensors

/// How ZeRO cuts the flat parameter vector over N_d ranks: the vector (canonical `ParameterSet` order) is a
/// sequence of buckets (the embedding, each layer, the head), and each bucket is split evenly
/// (`CollectivePlan.evenSplit`: pieces differ by at most one element, the larger on the lower ranks) so that
/// a layer's all-gather (stage 3) and a bucket's reduce-scatter (stage 2) are balanced rings.
///
/// Rank r's shard is its piece of every bucket, in bucket order. When N_d divides every bucket the shards are
/// exactly Ψ/N_d. A rank-major vector (shard 0, shard 1, …) is what one reduce-scatter or all-gather over the
/// whole model (stage 1) moves.
public struct ShardLayout: Sendable {
    /// A contiguous range of the flat vector and the cost-model ops whose parameters it holds.
    public struct Bucket: Sendable {
        /// `embedding`, `layers.3`, `head`.
        public var name: String
        /// The bucket's first element in the flat vector.
        public var offset: Int
        /// Its element count.
        public var elementCount: Int
        /// The ops of one micro-batch that use these parameters.
        public var ops: [OpCost]
        /// Piece sizes per rank.
        public var pieceCounts: [Int]

        /// Where rank `rank`'s piece starts inside the bucket.
        public func pieceOffset(rank: Int) -> Int { pieceCounts[..<rank].reduce(0, +) }
    }

    /// The buckets in flat order.
    public let buckets: [Bucket]
    /// Ranks the vector is cut over.
    public let rankCount: Int

    /// Buckets of `costModel` (embedding, `layersPerBucket` layers at a time, head) over `rankCount` ranks.
    public init(costModel: CostModel, rankCount: Int, layersPerBucket: Int = 1) {
        // `ops` is the embedding, every layer's ops, then the head.
        let ops = costModel.ops
        let layers = costModel.config.layerCount
        let width = max(1, layersPerBucket)
        let layerGroups: [(String, [OpCost])] = stride(from: 0, to: layers, by: width).map { first in
            let last = min(layers, first + width) - 1
            let name = first == last ? "layers.\(first)" : "layers.\(first)-\(last)"
            return (name, (first...last).flatMap { costModel.layerOps($0) })
        }
        let groups: [(String, [OpCost])] =
            [("embedding", Array(ops.prefix(1)))] + layerGroups + [("head", Array(ops.suffix(1)))]
        var offset = 0
        buckets = groups.map { name, ops in
            let count = ops.reduce(0) { $0 + $1.parameterCount }
            defer { offset += count }
            return Bucket(
                name: name, offset: offset, elementCount: count, ops: ops,
                pieceCounts: (0..<rankCount).map { count / rankCount + ($0 < count % rankCount ? 1 : 0) })
        }
        self.rankCount = rankCount
    }

    /// Ψ: elements of the whole vector.
    public var elementCount: Int { buckets.reduce(0) { $0 + $1.elementCount } }

    /// Elements of rank `rank`'s shard.
    public func shardElementCount(rank: Int) -> Int { buckets.reduce(0) { $0 + $1.pieceCounts[rank] } }

    /// Every rank's shard size, in rank order.
    public var shardElementCounts: [Int] { (0..<rankCount).map(shardElementCount) }

    /// The largest bucket, in elements (stage 3 holds one gathered bucket at a time).
    public var largestBucketElementCount: Int { buckets.map(\.elementCount).max() ?? 0 }

    /// Rank `rank`'s piece of bucket `bucket` taken from a flat vector `flat` (1-D, Ψ elements).
    public func piece(of flat: Tensor, bucket: Int, rank: Int) throws -> Tensor {
        let start = buckets[bucket].offset + buckets[bucket].pieceOffset(rank: rank)
        return try flat.slicingRows(start..<(start + buckets[bucket].pieceCounts[rank]))
    }

    /// Bucket `bucket` of a flat vector.
    public func bucket(of flat: Tensor, _ bucket: Int) throws -> Tensor {
        try flat.slicingRows(buckets[bucket].offset..<(buckets[bucket].offset + buckets[bucket].elementCount))
    }

    /// Rank `rank`'s shard of a flat vector.
    public func shard(of flat: Tensor, rank: Int) throws -> Tensor {
        try Self.concatenate(buckets.indices.map { try piece(of: flat, bucket: $0, rank: rank) }, like: flat)
    }

    /// The flat vector in rank-major order: shard 0, shard 1, …
    public func rankMajor(_ flat: Tensor) throws -> Tensor {
        try Self.concatenate((0..<rankCount).map { try shard(of: flat, rank: $0) }, like: flat)
    }

    /// The flat vector back from rank-major order.
    public func flat(fromRankMajor vector: Tensor) throws -> Tensor {
        let shardCounts = shardElementCounts
        var shardStarts: [Int] = []
        var start = 0
        for count in shardCounts {
            shardStarts.append(start)
            start += count
        }
        var parts: [Tensor] = []
        for (index, bucket) in buckets.enumerated() {
            for rank in 0..<rankCount {
                let within = buckets[..<index].reduce(0) { $0 + $1.pieceCounts[rank] }
                let begin = shardStarts[rank] + within
                parts.append(try vector.slicingRows(begin..<(begin + bucket.pieceCounts[rank])))
            }
        }
        return try Self.concatenate(parts, like: vector)
    }

    /// The flat vector from every rank's pieces of every bucket: `pieces[b]` is bucket b gathered.
    public static func concatenate(_ parts: [Tensor], like template: Tensor) throws -> Tensor {
        let nonEmpty = parts.filter { $0.elementCount > 0 }
        guard !nonEmpty.isEmpty else {
            return template.isPhantom
                ? try Tensor(phantom: [0], dtype: template.dtype) : try Tensor(zeros: [0], dtype: template.dtype)
        }
        return nonEmpty.count == 1 ? nonEmpty[0] : try Tensor.concatenatingRows(nonEmpty)
    }
}
