import Tensors

/// Node-limited top-k as DeepSeek-V3's `Gate` does it: experts sit in equal groups (one per node), each token
/// keeps only its best `groupLimit` groups, then takes its top-k experts among those.
public struct GroupLimitedTopK: Sendable, Hashable {
    /// How a group is scored from its experts' scores.
    public enum GroupScore: String, Sendable, Hashable {
        /// The sum of the group's two highest scores (V3's `Gate` with a bias; the model's router).
        case sumOfTopTwo
        /// The group's highest score (DeepEP's tests: `amax`).
        case maximum
    }

    /// Routed experts.
    public let expertCount: Int
    /// Equal contiguous groups the experts are split into.
    public let groupCount: Int
    /// Groups a token may use.
    public let groupLimit: Int
    /// Experts chosen per token.
    public let topK: Int
    /// The group-score rule.
    public let groupScore: GroupScore

    /// Throws `ModelError.invalidConfig` naming the first inconsistent number.
    public init(expertCount: Int, groupCount: Int, groupLimit: Int, topK: Int, groupScore: GroupScore = .sumOfTopTwo)
        throws
    {
        guard expertCount >= 1, groupCount >= 1, expertCount % groupCount == 0 else {
            throw ModelError.invalidConfig("\(expertCount) experts do not split into \(groupCount) equal groups")
        }
        guard (1...groupCount).contains(groupLimit) else {
            throw ModelError.invalidConfig("group limit \(groupLimit) outside 1...\(groupCount) groups")
        }
        let reachable = groupLimit * (expertCount / groupCount)
        guard (1...reachable).contains(topK) else {
            throw ModelError.invalidConfig(
                "topK \(topK) with \(groupLimit) of \(groupCount) groups of \(expertCount / groupCount) experts")
        }
        self.expertCount = expertCount
        self.groupCount = groupCount
        self.groupLimit = groupLimit
        self.topK = topK
        self.groupScore = groupScore
    }

    /// Experts per group.
    public var groupSize: Int { expertCount / groupCount }

    /// Whether the limit removes any choice (fewer groups allowed than exist).
    public var limits: Bool { groupLimit < groupCount }

    /// The top-k experts of one token's `scores` (largest first, ties: lower index) within its best groups.
    public func select(_ scores: ArraySlice<Float>) -> [Int] {
        let base = scores.startIndex
        var allowed = [Bool](repeating: !limits, count: groupCount)
        if limits {
            let groupScores = (0..<groupCount).map { group in
                score(ofGroup: scores[(base + group * groupSize)..<(base + (group + 1) * groupSize)])
            }
            for group in Tensor.largest(groupLimit, in: groupScores[...]) { allowed[group] = true }
        }
        return Tensor.largest(topK, in: scores, where: { allowed[$0 / groupSize] })
    }

    private func score(ofGroup group: ArraySlice<Float>) -> Float {
        switch groupScore {
        case .maximum:
            return group.max() ?? 0
        case .sumOfTopTwo:
            let top = Tensor.largest(min(2, group.count), in: group)
            return top.reduce(0) { $0 + group[group.startIndex + $1] }
        }
    }
}
