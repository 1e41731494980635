import Testing

@testable import Tensors

@Suite struct RowOperationTests {
    let matrix: Tensor

    init() throws {
        matrix = try Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
    }

    @Test func sliceAndConcatenateRoundTrip() throws {
        let top = try matrix.slicingRows(0..<1)
        let rest = try matrix.slicingRows(1..<3)
        #expect(try rest.scalars() == [3, 4, 5, 6])
        #expect(try Tensor.concatenatingRows([top, rest]) == matrix)
        #expect(throws: TensorError.shapeMismatch(operation: "concatRows", shapes: [[3, 2], [1, 3]])) {
            try Tensor.concatenatingRows([matrix, Tensor(zeros: [1, 3])])
        }
    }

    @Test func gatherThenScatterAddSumsRepeatedRows() throws {
        let gathered = try matrix.gatheringRows([2, 0, 2])
        #expect(try gathered.scalars() == [5, 6, 1, 2, 5, 6])
        let scattered = try gathered.scatterAddingRows(to: [2, 0, 2], rowCount: 3)
        #expect(try scattered.scalars() == [1, 2, 0, 0, 10, 12])
        #expect(throws: TensorError.invalidArgument(operation: "gatherRows", detail: "row index 3 outside 0..<3")) {
            try matrix.gatheringRows([3])
        }
    }

    @Test func softmaxRowsSumToOne() throws {
        let logits = try Tensor(shape: [2, 3], values: [0, 0, 0, 1, 2, 3])
        let p = try logits.softmaxLastDimension().scalars()
        #expect(p[0...2].allSatisfy { abs($0 - 1.0 / 3) < 1e-7 })
        #expect(abs(p[3] - 0.090_030_57) < 1e-7 && abs(p[5] - 0.665_240_94) < 1e-7)
    }

    @Test func topKPrefersLargerThenLowerIndex() throws {
        let scores = try Tensor(shape: [2, 5], values: [0.5, 0.9, 0.5, 0.9, 0.1, 3, 3, 3, 3, 3])
        let top = try scores.topK(3)
        #expect(top.indices == [1, 3, 0, 0, 1, 2])
        #expect(top.largestValues == [0.9, 0.9, 0.5, 3, 3, 3])
        #expect(throws: TensorError.invalidArgument(operation: "topK", detail: "k = 6 with last dimension 5")) {
            try scores.topK(6)
        }
    }

    @Test func rmsNormScalesRowsToUnitRootMeanSquare() throws {
        let x = try Tensor(shape: [1, 2], values: [3, 4])
        let weight = try Tensor(shape: [2], values: [1, 2])
        let y = try x.rmsNorm(weight: weight, epsilon: 0).scalars()
        let rms = Float(12.5).squareRoot()
        #expect(abs(y[0] - 3 / rms) < 1e-6 && abs(y[1] - 8 / rms) < 1e-6)
    }
}
