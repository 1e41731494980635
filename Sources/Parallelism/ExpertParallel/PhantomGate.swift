import MoEModel
import Tensors

/// The seeded random gate of phantom runs, as DeepEP's tests route: i.i.d. positive scores per token and expert,
/// the best `groupLimit` groups by their highest score, top-k among them; weights normalised.
///
/// DeepEP draws |N(0, 1)| + 1; the choices depend only on the scores' ranks, which any i.i.d. continuous
/// distribution draws alike, so this gate draws uniform scores in [1, 2) (a fifth of the cost of a normal).
///
/// `skew` in [0, 1] concentrates routing: that fraction of tokens (drawn at random) prefers the hot experts
/// 0 ..< k, which all sit on rank 0 when E / EP ≥ k.
public struct PhantomGate: Sendable {
    /// The selection rule (group score: maximum, as DeepEP's tests).
    public let selection: GroupLimitedTopK
    /// Fraction of tokens sent to the hot experts.
    public let skew: Double

    /// A gate over `selection`'s experts; refuses a skew outside [0, 1].
    public init(expertCount: Int, groupCount: Int, groupLimit: Int, topK: Int, skew: Double = 0) throws {
        guard (0...1).contains(skew) else {
            throw ExpertParallelError.invalid("skew", "\(skew)", "must be in 0...1")
        }
        selection = try GroupLimitedTopK(
            expertCount: expertCount, groupCount: groupCount, groupLimit: groupLimit, topK: topK,
            groupScore: .maximum)
        self.skew = skew
    }

    /// The routing of `tokenCount` tokens drawn from `seed`.
    public func route(tokenCount: Int, seed: UInt64) throws -> RoutingDecision {
        var generator = SplitMix64(seed: seed)
        let expertCount = selection.expertCount
        var experts: [Int] = []
        var weights: [Float] = []
        experts.reserveCapacity(tokenCount * selection.topK)
        var scores = [Float](repeating: 0, count: expertCount)
        for _ in 0..<tokenCount {
            for expert in 0..<expertCount { scores[expert] = generator.nextUnitFloat() + 1 }
            if skew > 0, Double(generator.nextUnitFloat()) < skew {
                for expert in 0..<selection.topK { scores[expert] += 1000 }
            }
            let chosen = selection.select(scores[...])
            let total = chosen.reduce(Float(0)) { $0 + scores[$1] }
            experts += chosen
            weights += chosen.map { scores[$0] / total }
        }
        return try RoutingDecision(
            tokenCount: tokenCount, expertCount: expertCount, topK: selection.topK, experts: experts,
            weights: weights)
    }
}
