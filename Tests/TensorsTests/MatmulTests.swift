import Testing

@testable import Tensors

@Suite struct MatmulTests {
    /// Fixed-order reference: each output sums its products in ascending k starting from 0.
    static func naive(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
                c[i * n + j] = sum
            }
        }
        return c
    }

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in generator.nextNormal() }
    }

    @Test(arguments: [(1, 1, 1), (4, 16, 16), (5, 7, 19), (9, 300, 17), (33, 2, 40), (70, 20, 33)])
    func matchesNaiveLoopBitForBit(m: Int, k: Int, n: Int) throws {
        let a = Self.random(m * k, seed: 1)
        let b = Self.random(k * n, seed: 2)
        let product = try Tensor(shape: [m, k], values: a).matmul(Tensor(shape: [k, n], values: b))
        #expect(product.shape == [m, n])
        #expect(try product.scalars() == Self.naive(a, b, m: m, k: k, n: n))
    }

    @Test func transposedOperands() throws {
        let a = try Tensor(shape: [3, 2], values: Self.random(6, seed: 3))
        let b = try Tensor(shape: [4, 3], values: Self.random(12, seed: 4))
        let viaFlags = try a.matmul(b, transposeSelf: true, transposeOther: true)
        let viaCopies = try a.transposed().matmul(b.transposed())
        #expect(viaFlags.shape == [2, 4])
        #expect(try viaFlags.scalars() == viaCopies.scalars())
    }

    @Test func transposeMovesElements() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(try a.transposed().scalars() == [1, 4, 2, 5, 3, 6])
    }

    @Test func innerDimensionMismatchNamesShapes() throws {
        let a = try Tensor(zeros: [2, 3])
        #expect(throws: TensorError.shapeMismatch(operation: "matmul (rhs transposed)", shapes: [[2, 3], [3, 2]])) {
            try a.matmul(Tensor(zeros: [3, 2]), transposeOther: true)
        }
        #expect(throws: TensorError.shapeMismatch(operation: "matmul", shapes: [[2, 3, 1]])) {
            try Tensor(zeros: [2, 3, 1]).matmul(a)
        }
    }

    @Test func emptyInnerDimensionGivesZeros() throws {
        let product = try Tensor(zeros: [2, 0]).matmul(Tensor(zeros: [0, 3]))
        #expect(try product.scalars() == [0, 0, 0, 0, 0, 0])
    }
}

@Suite struct TransposedMatmulTests {
    /// Transposed operands are packed straight from memory; results still equal the naive loop on copies.
    @Test(arguments: [(5, 7, 19), (70, 300, 17)])
    func transposedOperandsMatchNaiveLoop(m: Int, k: Int, n: Int) throws {
        let aT = MatmulTests.random(k * m, seed: 5)
        let bT = MatmulTests.random(n * k, seed: 6)
        let product = try Tensor(shape: [k, m], values: aT).matmul(
            Tensor(shape: [n, k], values: bT), transposeSelf: true, transposeOther: true)
        let a = Tensor.transpose(aT, rows: k, columns: m)
        let b = Tensor.transpose(bT, rows: n, columns: k)
        #expect(try product.scalars() == MatmulTests.naive(a, b, m: m, k: k, n: n))
    }
}
