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

    /// Offset of (token row, head) in a [rows, hidden] matrix.
    func offset(row: Int, head: Int) -> Int { row * hidden + head * headDimension }

    /// Offset of probability (query i, key j) for a sequence and head.
    func probabilityOffset(sequence: Int, head: Int, query: Int) -> Int {
        ((sequence * headCount + head) * sequenceLength + query) * sequenceLength
    }

    func dot(_ a: [Float], _ aOffset: Int, _ b: [Float], _ bOffset: Int) -> Float {
        var sum: Float = 0
        for d in 0..<headDimension { sum += a[aOffset + d] * b[bOffset + d] }
        return sum
    }

    func forward(queries: [Float], keys: [Float], values: [Float]) -> (probabilities: [Float], context: [Float]) {
        var probabilities = [Float](repeating: 0, count: sequenceCount * headCount * sequenceLength * sequenceLength)
        var context = [Float](repeating: 0, count: queries.count)
        for sequence in 0..<sequenceCount {
            for head in 0..<headCount {
                for query in 0..<sequenceLength {
                    let row = sequence * sequenceLength + query
                    let base = probabilityOffset(sequence: sequence, head: head, query: query)
                    let q = offset(row: row, head: head)
                    var maximum = -Float.infinity
                    for key in 0...query {
                        let score = dot(queries, q, keys, offset(row: row - query + key, head: head)) * scale
                        probabilities[base + key] = score
                        maximum = max(maximum, score)
                    }
                    var total: Float = 0
                    for key in 0...query {
                        probabilities[base + key] = Foundation.exp(probabilities[base + key] - maximum)
                        total += probabilities[base + key]
                    }
                    for key in 0...query {
                        probabilities[base + key] /= total
                        let v = offset(row: row - query + key, head: head)
                        for d in 0..<headDimension { context[q + d] += probabilities[base + key] * values[v + d] }
                    }
                }
            }
        }
        return (probabilities, context)
    }

    func backward(
        contextGradient dc: [Float], cache: AttentionLayer.Cache
    ) throws -> (queries: [Float], keys: [Float], values: [Float]) {
        let (q, k, v) = try (cache.queries.values(), cache.keys.values(), cache.values.values())
        let p = cache.probabilities
        var (dq, dk, dv) = (
            [Float](repeating: 0, count: q.count), [Float](repeating: 0, count: q.count),
            [Float](repeating: 0, count: q.count)
        )
        var dp = [Float](repeating: 0, count: sequenceLength)
        for sequence in 0..<sequenceCount {
            for head in 0..<headCount {
                for query in 0..<sequenceLength {
                    let row = sequence * sequenceLength + query
                    let base = probabilityOffset(sequence: sequence, head: head, query: query)
                    let qi = offset(row: row, head: head)
                    var weighted: Float = 0
                    for key in 0...query {
                        let kj = offset(row: row - query + key, head: head)
                        dp[key] = dot(dc, qi, v, kj)
                        weighted += p[base + key] * dp[key]
                        for d in 0..<headDimension { dv[kj + d] += p[base + key] * dc[qi + d] }
                    }
                    for key in 0...query {
                        let kj = offset(row: row - query + key, head: head)
                        let scoreGradient = p[base + key] * (dp[key] - weighted) * scale
                        for d in 0..<headDimension {
                            dq[qi + d] += scoreGradient * k[kj + d]
                            dk[kj + d] += scoreGradient * q[qi + d]
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}
