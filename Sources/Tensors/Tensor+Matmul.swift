/// Matrix products.
extension Tensor {
    /// The matrix product op(self) * op(other), where op transposes when asked; both operands must be rank 2.
    ///
    /// Each output element sums its products in ascending order of the inner index, so results are
    /// bit-reproducible and equal to a naive loop. A phantom operand gives a phantom result.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Tensor {
        let (lhsRows, lhsColumns) = try matrixDimensions(operation: "matmul")
        let (rhsRows, rhsColumns) = try other.matrixDimensions(operation: "matmul")
        let (m, k) = transposeSelf ? (lhsColumns, lhsRows) : (lhsRows, lhsColumns)
        let (innerOther, n) = transposeOther ? (rhsColumns, rhsRows) : (rhsRows, rhsColumns)
        guard k == innerOther else {
            let label = "matmul\(transposeSelf ? " (lhs transposed)" : "")\(transposeOther ? " (rhs transposed)" : "")"
            throw TensorError.shapeMismatch(operation: label, shapes: [shape, other.shape])
        }
        return Self.result(shape: [m, n], dtype: dtype, operands: [self, other]) { inputs in
            let a = transposeSelf ? Self.transpose(inputs[0], rows: lhsRows, columns: lhsColumns) : inputs[0]
            let b = transposeOther ? Self.transpose(inputs[1], rows: rhsRows, columns: rhsColumns) : inputs[1]
            return [Float](unsafeUninitializedCapacity: m * n) { buffer, count in
                a.withUnsafeBufferPointer { aBuffer in
                    b.withUnsafeBufferPointer { bBuffer in
                        MatmulKernel.multiply(aBuffer, bBuffer, m: m, k: k, n: n, into: buffer)
                    }
                }
                count = m * n
            }
        }
    }

    /// Floating-point operations of op(A) (m x k) times op(B) (k x n): one multiply and one add per term.
    public static func matmulFLOPs(m: Int, k: Int, n: Int) -> Int {
        2 * m * k * n
    }
}
