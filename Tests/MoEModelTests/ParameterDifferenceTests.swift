import Tensors
import Testing

@testable import MoEModel

/// `train.max_param_diff`'s one definition: per tensor max |p − p_ref| / max |p_ref|, the largest over tensors.
@Suite struct ParameterDifferenceTests {
    static func set(_ tensors: [(String, [Float])]) throws -> ParameterSet {
        var set = ParameterSet()
        for (name, values) in tensors { try set.append(name, try Tensor(shape: [values.count], values: values)) }
        return set
    }

    @Test func largestPerTensorRelativeDifference() throws {
        let reference = try Self.set([("a", [1, -4]), ("b", [100, 0]), ("z", [0, 0])])
        // a: 0.5 / 4; b: 2 / 100; z (reference all zero): the absolute 0.
        let mine = try Self.set([("a", [1.5, -4]), ("b", [98, 0]), ("z", [0, 0])])
        #expect(try mine.maxRelativeDifference(to: reference) == 0.125)
        #expect(try reference.maxRelativeDifference(to: reference) == 0)
        let nonzero = try Self.set([("a", [1, -4]), ("b", [100, 0]), ("z", [0, 0.25])])
        #expect(try nonzero.maxRelativeDifference(to: reference) == 0.25)
        let nan = try Self.set([("a", [.nan, -4]), ("b", [100, 0]), ("z", [0, 0])])
        #expect(try nan.maxRelativeDifference(to: reference).isNaN)
    }

    /// A missing, renamed or resized tensor throws instead of being skipped.
    @Test func differingEntriesThrow() throws {
        let reference = try Self.set([("a", [1, 2]), ("b", [3])])
        for mine in [
            try Self.set([("a", [1, 2])]), try Self.set([("a", [1, 2]), ("c", [3])]),
            try Self.set([("a", [1, 2]), ("b", [3, 4])]),
        ] {
            #expect(throws: ModelError.self) { try mine.maxRelativeDifference(to: reference) }
        }
    }
}
