import Foundation
import Tensors

/// Index arithmetic and the scalar loops of the attention core (scores, softmax, weighted sums).
struct AttentionGeometry {
    let hidden: Int
    let headCount: Int
    let headDimension: Int
    let sequenceLength: Int
    let sequenceCount: Int
    let scale: Float

    init(shape: [Int], headCount: Int, sequenceLength: Int) throws {
        guard shape.count == 2, headCount > 0, shape[1] % headCount == 0, sequenceLength > 0,
            shape[0] % sequenceLength == 0
        else {
            throw TensorError.invalidArgument(
                operation: "attention",
                detail: "input \(shape) with \(headCount) heads and sequence length \(sequenceLength)")
        }
        hidden = shape[1]
        self.headCount = headCount
        headDimension = hidden / headCount
        self.sequenceLength = sequenceLength
        sequenceCount = shape[0] / sequenceLength
        scale = 1 / Float(headDimension).squareRoot()
    }

    /// One query of one head: where its vector and its probability row live.
    struct QueryPosition {
        /// Offset of the query's head slice in a [rows, hidden] matrix.
        let offset: Int
        /// Offset of the first key's head slice (the sequence start) in a [rows, hidden] matrix.
        let firstKeyOffset: Int
        /// Offset of the query's probability row.
        let probabilityBase: Int
        /// Keys the query sees: 0...query.
        let visibleKeys: ClosedRange<Int>

        /// Offset of key `key`'s head slice.
        func keyOffset(_ key: Int, hidden: Int) -> Int { firstKeyOffset + key * hidden }
    }

    /// Visits every (sequence, head, query) in a fixed order, so sums are reproducible.
    func forEachQuery(_ body: (QueryPosition) -> Void) {
        for sequence in 0..<sequenceCount {
            for head in 0..<headCount {
                let firstKeyOffset = sequence * sequenceLength * hidden + head * headDimension
                for query in 0..<sequenceLength {
                    let base = ((sequence * headCount + head) * sequenceLength + query) * sequenceLength
                    body(
                        QueryPosition(
                            offset: firstKeyOffset + query * hidden, firstKeyOffset: firstKeyOffset,
                            probabilityBase: base, visibleKeys: 0...query))
                }
            }
        }
    }

    /// The dot product of two head slices, summed in ascending dimension order.
    func dot(_ a: [Float], _ aOffset: Int, _ b: [Float], _ bOffset: Int) -> Float {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                var sum: Float = 0
                for d in 0..<headDimension { sum += a[aOffset + d] * b[bOffset + d] }
                return sum
            }
        }
    }

    /// target slice += factor * source slice.
    func addScaled(
        _ factor: Float, _ source: [Float], _ sourceOffset: Int, to target: inout [Float], _ targetOffset: Int
    ) {
        source.withUnsafeBufferPointer { source in
            target.withUnsafeMutableBufferPointer { target in
                for d in 0..<headDimension { target[targetOffset + d] += factor * source[sourceOffset + d] }
            }
        }
    }

    /// Causal softmax(Q K^T * scale) per head and the context P V.
    func forward(queries: [Float], keys: [Float], values: [Float]) -> (probabilities: [Float], context: [Float]) {
        var probabilities = [Float](repeating: 0, count: sequenceCount * headCount * sequenceLength * sequenceLength)
        var context = [Float](repeating: 0, count: queries.count)
        forEachQuery { position in
            let base = position.probabilityBase
            var maximum = -Float.infinity
            for key in position.visibleKeys {
                let score = dot(queries, position.offset, keys, position.keyOffset(key, hidden: hidden)) * scale
                probabilities[base + key] = score
                maximum = max(maximum, score)
            }
            var total: Float = 0
            for key in position.visibleKeys {
                probabilities[base + key] = Foundation.exp(probabilities[base + key] - maximum)
                total += probabilities[base + key]
            }
            for key in position.visibleKeys {
                probabilities[base + key] /= total
                addScaled(
                    probabilities[base + key], values, position.keyOffset(key, hidden: hidden), to: &context,
                    position.offset)
            }
        }
        return (probabilities, context)
    }

    /// Gradients of Q, K and V from the context gradient: dS = P * (dP - rowsum(P * dP)) * scale.
    func backward(
        contextGradient dc: [Float], cache: AttentionLayer.Cache
    ) throws -> (queries: [Float], keys: [Float], values: [Float]) {
        let (q, k, v) = try (
            cache.projectedQueries.scalars(), cache.projectedKeys.scalars(), cache.projectedValues.scalars()
        )
        let p = cache.probabilities
        var dq = [Float](repeating: 0, count: q.count)
        var dk = dq
        var dv = dq
        var dp = [Float](repeating: 0, count: sequenceLength)
        forEachQuery { position in
            let (base, qi) = (position.probabilityBase, position.offset)
            var weighted: Float = 0
            for key in position.visibleKeys {
                let kj = position.keyOffset(key, hidden: hidden)
                dp[key] = dot(dc, qi, v, kj)
                weighted += p[base + key] * dp[key]
                addScaled(p[base + key], dc, qi, to: &dv, kj)
            }
            for key in position.visibleKeys {
                let kj = position.keyOffset(key, hidden: hidden)
                let scoreGradient = p[base + key] * (dp[key] - weighted) * scale
                addScaled(scoreGradient, k, kj, to: &dq, qi)
                addScaled(scoreGradient, q, qi, to: &dk, kj)
            }
        }
        return (dq, dk, dv)
    }
}
