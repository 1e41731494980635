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
            [Float](unsafeUninitializedCapacity: m * n) { buffer, count in
                inputs[0].withUnsafeBufferPointer { a in
                    inputs[1].withUnsafeBufferPointer { b in
                        guard let c = buffer.baseAddress, let aBase = a.baseAddress, let bBase = b.baseAddress else {
                            buffer.initialize(repeating: 0)
                            return
                        }
                        MatmulKernel.multiply(
                            a: .init(base: aBase, stride: lhsColumns, transposed: transposeSelf),
                            b: .init(base: bBase, stride: rhsColumns, transposed: transposeOther), m: m, k: k, n: n,
                            into: c)
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
