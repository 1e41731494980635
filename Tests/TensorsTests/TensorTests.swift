import Testing

@testable import Tensors

@Suite struct TensorTests {
    @Test func byteCountFollowsDType() throws {
        let shape = [3, 5]
        let sizes = try DType.allCases.map { try Tensor(phantom: shape, dtype: $0).byteCount }
        #expect(sizes == [60, 30, 30, 15])
        #expect(try Tensor(zeros: shape, dtype: .bf16).byteCount == 30)
    }

    @Test func invalidShapeNamesShapeAndCount() {
        #expect(throws: TensorError.invalidShape(shape: [2, 3], valueCount: 5)) {
            try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
        #expect("\(TensorError.invalidShape(shape: [2, 3], valueCount: 5))" == "invalid shape [2, 3] for 5 values")
    }

    @Test func phantomHasNoValues() throws {
        let phantom = try Tensor(phantom: [4, 2], dtype: .fp8e4m3)
        #expect(phantom.isPhantom)
        #expect(phantom.byteCount == 8)
        #expect(throws: TensorError.phantomValues(operation: "scalars", shape: [4, 2])) { try phantom.scalars() }
    }

    @Test func elementwiseOperations() throws {
        let a = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let b = try Tensor(shape: [2, 2], values: [10, 20, 30, 40])
        #expect(try a.adding(b).scalars() == [11, 22, 33, 44])
        #expect(try b.subtracting(a).scalars() == [9, 18, 27, 36])
        #expect(try a.multiplying(b).scalars() == [10, 40, 90, 160])
        #expect(try a.scaled(by: 0.5).scalars() == [0.5, 1, 1.5, 2])
        #expect(try a.sumOverRows().scalars() == [4, 6])
        #expect(try a.multiplyingLastDimension(by: Tensor(shape: [2], values: [2, 3])).scalars() == [2, 6, 6, 12])
    }

    @Test func mismatchedShapesThrowWithBothShapes() throws {
        let a = try Tensor(zeros: [2, 3])
        let b = try Tensor(zeros: [3, 2])
        #expect(throws: TensorError.shapeMismatch(operation: "add", shapes: [[2, 3], [3, 2]])) { try a.adding(b) }
        let message = "\(TensorError.shapeMismatch(operation: "matmul", shapes: [[2, 3], [2, 3]]))"
        #expect(message == "matmul: incompatible shapes [2, 3], [2, 3]")
    }

    @Test func siluAndItsDerivative() throws {
        let x = try Tensor(shape: [3], values: [0, 1, -2])
        let silu = try x.silu().scalars()
        #expect(silu[0] == 0)
        #expect(abs(silu[1] - 0.731_058_6) < 1e-6)
        #expect(abs(silu[2] - -0.238_405_8) < 1e-6)
        let derivative = try x.siluDerivative().scalars()
        #expect(derivative[0] == 0.5)
        #expect(abs(derivative[1] - 0.927_670_7) < 1e-6)
    }

    @Test func phantomOperandsGivePhantomResults() throws {
        let real = try Tensor(zeros: [4, 3])
        let phantom = try Tensor(phantom: [3, 5], dtype: .bf16)
        let product = try real.matmul(phantom)
        #expect(product.isPhantom && product.shape == [4, 5])
        #expect(try phantom.transposed().shape == [5, 3])
        #expect(try phantom.softmaxLastDimension().isPhantom)
        #expect(throws: TensorError.phantomValues(operation: "topK", shape: [3, 5])) { try phantom.topK(1) }
        #expect(throws: TensorError.self) { try real.matmul(try Tensor(phantom: [4, 5])) }
    }

    @Test func splitMixMatchesReferenceSequence() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func reshapeKeepsValues() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(try a.reshaped([3, 2]).scalars() == [1, 2, 3, 4, 5, 6])
        #expect(throws: TensorError.shapeMismatch(operation: "reshape", shapes: [[2, 3], [4, 2]])) {
            try a.reshaped([4, 2])
        }
    }
}
