import Tensors

extension ParameterSet {
    /// `train.max_param_diff`: the largest relative difference of any tensor against `reference`, where a
    /// tensor's is max |p − p_ref| / max |p_ref| over its values (0 when bit-identical).
    ///
    /// Throws unless both sets hold the same names with the same element counts in the same order, so a
    /// missing stage or tensor cannot pass for a match.
    public func maxRelativeDifference(to reference: ParameterSet) throws -> Double {
        guard entries.count == reference.entries.count else {
            throw ModelError.mismatchedParameters(
                "\(entries.count) tensors, the reference has \(reference.entries.count)")
        }
        var worst = 0.0
        for (mine, theirs) in zip(entries, reference.entries) {
            guard mine.name == theirs.name else {
                throw ModelError.mismatchedParameters("\"\(mine.name)\" where the reference has \"\(theirs.name)\"")
            }
            let difference = try Self.relativeDifference(
                mine.tensor.scalars(), theirs.tensor.scalars(), name: mine.name)
            if difference > worst || difference.isNaN { worst = difference }
            if worst.isNaN { break }
        }
        return worst
    }

    /// max |a − b| / max |b| over one tensor's values; when `b` is all zero, max |a| (0 when both are); NaN
    /// when any value is NaN.
    public static func relativeDifference(_ actual: [Float], _ expected: [Float], name: String = "tensor") throws
        -> Double
    {
        guard actual.count == expected.count else {
            throw ModelError.mismatchedParameters("\(name) has \(actual.count) values, the reference \(expected.count)")
        }
        let scale = expected.reduce(0.0) { max($0, Double(abs($1))) }
        var difference = 0.0
        for (a, b) in zip(actual, expected) {
            let gap = Double(abs(a - b))
            if gap > difference || gap.isNaN { difference = gap }
            if difference.isNaN { return .nan }
        }
        return scale > 0 ? difference / scale : difference
    }
}
