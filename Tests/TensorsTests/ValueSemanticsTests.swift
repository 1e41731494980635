import Testing

@testable import Tensors

@Suite("Tensor value semantics")
struct ValueSemanticsTests {
    @Test("a copy is independent: changing its dtype or deriving new tensors leaves the original as it was")
    func copiesAreIndependent() throws {
        let original = try Tensor(shape: [2, 2], values: [1, 2, 3, 4], dtype: .fp32)
        var copy = original
        copy.dtype = .fp8e4m3
        #expect(original.dtype == .fp32 && original.byteCount == 16)
        #expect(copy.byteCount == 4 && copy != original)
        let scaled = original.scaled(by: 2)
        let sum = try original.adding(original)
        #expect(try original.scalars() == [1, 2, 3, 4])
        #expect(try scaled.scalars() == [2, 4, 6, 8] && sum == scaled)
    }
}
