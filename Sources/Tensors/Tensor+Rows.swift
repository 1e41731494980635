/// Operations along the first (batch) dimension: each entry of it is a "row" of `rowWidth` elements.
extension Tensor {
    /// Rows `range` of the tensor.
    public func slicingRows(_ range: Range<Int>) throws -> Tensor {
        guard rank > 0, range.lowerBound >= 0, range.upperBound <= rowCount else {
            throw TensorError.invalidArgument(operation: "sliceRows", detail: "rows \(range) outside shape \(shape)")
        }
        let width = rowWidth
        return Self.result(shape: [range.count] + shape.dropFirst(), dtype: dtype, operands: [self]) { inputs in
            Array(inputs[0][(range.lowerBound * width)..<(range.upperBound * width)])
        }
    }

    /// The tensors stacked along the first dimension; all other dimensions must agree.
    public static func concatenatingRows(_ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first, first.rank > 0 else {
            throw TensorError.invalidArgument(operation: "concatRows", detail: "needs at least one tensor of rank >= 1")
        }
        let tail = Array(first.shape.dropFirst())
        guard parts.allSatisfy({ $0.rank == first.rank && Array($0.shape.dropFirst()) == tail }) else {
            throw TensorError.shapeMismatch(operation: "concatRows", shapes: parts.map(\.shape))
        }
        let rows = parts.reduce(0) { $0 + $1.rowCount }
        return result(shape: [rows] + tail, dtype: first.dtype, operands: parts) { Array($0.joined()) }
    }

    /// The rows at `indices`, in that order (indices may repeat).
    public func gatheringRows(_ indices: [Int]) throws -> Tensor {
        try checkRowIndices(indices, limit: rowCount, operation: "gatherRows")
        let width = rowWidth
        return Self.result(shape: [indices.count] + shape.dropFirst(), dtype: dtype, operands: [self]) { inputs in
            var out: [Float] = []
            out.reserveCapacity(indices.count * width)
            for row in indices { out.append(contentsOf: inputs[0][(row * width)..<((row + 1) * width)]) }
            return out
        }
    }

    /// A tensor of `rowCount` rows where row `indices[i]` accumulates row `i` of this tensor, in ascending `i`.
    public func scatterAddingRows(to indices: [Int], rowCount targetRows: Int) throws -> Tensor {
        guard indices.count == rowCount else {
            throw TensorError.shapeMismatch(operation: "scatterAddRows", shapes: [shape, [indices.count]])
        }
        try checkRowIndices(indices, limit: targetRows, operation: "scatterAddRows")
        let width = rowWidth
        return Self.result(shape: [targetRows] + shape.dropFirst(), dtype: dtype, operands: [self]) { inputs in
            var out = [Float](repeating: 0, count: targetRows * width)
            for (source, target) in indices.enumerated() {
                for column in 0..<width { out[target * width + column] += inputs[0][source * width + column] }
            }
            return out
        }
    }

    /// The transpose of a matrix.
    public func transposed() throws -> Tensor {
        let (rows, columns) = try matrixDimensions(operation: "transpose")
        return Self.result(shape: [columns, rows], dtype: dtype, operands: [self]) { inputs in
            Self.transpose(inputs[0], rows: rows, columns: columns)
        }
    }

    /// Rows and columns of a rank-2 tensor; throws for any other rank.
    public func matrixDimensions(operation: String) throws -> (rows: Int, columns: Int) {
        guard rank == 2 else { throw TensorError.shapeMismatch(operation: operation, shapes: [shape]) }
        return (shape[0], shape[1])
    }

    static func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { buffer, count in
            for row in 0..<rows {
                for column in 0..<columns { buffer[column * rows + row] = values[row * columns + column] }
            }
            count = values.count
        }
    }

    private func checkRowIndices(_ indices: [Int], limit: Int, operation: String) throws {
        guard rank > 0 else { throw TensorError.shapeMismatch(operation: operation, shapes: [shape]) }
        if let bad = indices.first(where: { $0 < 0 || $0 >= limit }) {
            throw TensorError.invalidArgument(operation: operation, detail: "row index \(bad) outside 0..<\(limit)")
        }
    }
}
