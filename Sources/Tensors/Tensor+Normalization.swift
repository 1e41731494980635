import Foundation

/// Row-wise normalisations over the last dimension.
extension Tensor {
    /// Softmax over the last dimension, with the row maximum subtracted first for stability.
    public func softmaxLastDimension() throws -> Tensor {
        let width = try lastDimension(operation: "softmax")
        return Self.result(shape: shape, dtype: dtype, operands: [self]) { inputs in
            var out = inputs[0]
            for start in stride(from: 0, to: out.count, by: width) {
                let row = start..<(start + width)
                let maximum = out[row].max() ?? 0
                var total: Float = 0
                for index in row {
                    out[index] = Foundation.exp(out[index] - maximum)
                    total += out[index]
                }
                for index in row { out[index] /= total }
            }
            return out
        }
    }

    /// Each row divided by its root mean square: x / sqrt(mean(x^2) + epsilon), plus the factor 1 / rms per row.
    public func rmsNormalized(epsilon: Float) throws -> (normalized: Tensor, inverseRMS: Tensor) {
        let width = try lastDimension(operation: "rmsNorm")
        let rows = elementCount / width
        let inverse = Self.result(shape: [rows], dtype: .fp32, operands: [self]) { inputs in
            (0..<rows).map { row in
                var squares: Float = 0
                for value in inputs[0][(row * width)..<((row + 1) * width)] { squares += value * value }
                return 1 / (squares / Float(width) + epsilon).squareRoot()
            }
        }
        let normalized = Self.result(shape: shape, dtype: dtype, operands: [self, inverse]) { inputs in
            inputs[0].enumerated().map { index, value in value * inputs[1][index / width] }
        }
        return (normalized, inverse)
    }

    /// RMSNorm: rows normalised to unit root mean square, then scaled by `weight` (shape [last dimension]).
    public func rmsNorm(weight: Tensor, epsilon: Float) throws -> Tensor {
        try rmsNormalized(epsilon: epsilon).normalized.multiplyingLastDimension(by: weight)
    }

    /// The k largest entries of each row over the last dimension, largest first; equal values: lower index first.
    public func topK(_ k: Int) throws -> TopK {
        let width = try lastDimension(operation: "topK")
        guard k >= 1, k <= width else {
            throw TensorError.invalidArgument(operation: "topK", detail: "k = \(k) with last dimension \(width)")
        }
        guard case .real(let values) = storage else { throw TensorError.phantomValues(operation: "topK", shape: shape) }
        var result = TopK(k: k, indices: [], largestValues: [])
        for start in stride(from: 0, to: values.count, by: width) {
            let chosen = Self.largest(k, in: values[start..<(start + width)])
            result.indices.append(contentsOf: chosen)
            result.largestValues.append(contentsOf: chosen.map { values[start + $0] })
        }
        return result
    }

    /// Positions (relative to the slice start) of the k largest values whose position passes `include`, largest
    /// first, by insertion into a sorted short list; equal values keep the lower position first.
    public static func largest(
        _ k: Int, in row: ArraySlice<Float>, where include: (Int) -> Bool = { _ in true }
    ) -> [Int] {
        guard k > 0 else { return [] }
        // One spare slot: a newcomer shifts the kept ones right, and whatever lands in slot k drops out.
        var chosen = [Int](repeating: 0, count: k + 1)
        var count = 0
        row.withUnsafeBufferPointer { values in
            chosen.withUnsafeMutableBufferPointer { kept in
                for offset in values.indices {
                    let value = values[offset]
                    // Full and not above the last kept: it would land at position k and drop out (a NaN too).
                    if count == k, !(value > values[kept[k - 1]]) { continue }
                    guard include(offset) else { continue }
                    // Strictly greater moves ahead, so an equal value keeps the lower index in front.
                    var position = count
                    while position > 0, value > values[kept[position - 1]] {
                        kept[position] = kept[position - 1]
                        position -= 1
                    }
                    kept[position] = offset
                    if count < k { count += 1 }
                }
            }
        }
        chosen.removeLast(k + 1 - count)
        return chosen
    }

    private func lastDimension(operation: String) throws -> Int {
        guard let width = shape.last, width > 0 else {
            throw TensorError.invalidArgument(operation: operation, detail: "shape \(shape) has no last dimension")
        }
        return width
    }
}

/// The result of `Tensor.topK`: for each row, k column indices and their values, largest first.
public struct TopK: Sendable, Equatable {
    /// Entries kept per row.
    public let k: Int
    /// Column indices, k per row, row after row.
    public var indices: [Int]
    /// The values at those indices.
    public var largestValues: [Float]
}
