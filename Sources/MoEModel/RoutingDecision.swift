/// Where the gate sends each token: its top-k experts and their combine weights, plus per-expert dispatch lists.
///
/// Slots are token-major: slot `t * topK + i` is token t's i-th choice (highest score first). Expert-parallel
/// code sends token rows to the ranks holding `assignments[e].expert` and combines the returned rows with
/// `weights`.
public struct RoutingDecision: Sendable, Equatable {
    /// Tokens routed (rows of the layer input).
    public let tokenCount: Int
    /// Routed experts of the layer.
    public let expertCount: Int
    /// Slots per token.
    public let topK: Int
    /// Expert of each slot.
    public let experts: [Int]
    /// Combine weight of each slot; a token's weights sum to 1.
    public let weights: [Float]
    /// For each expert in index order, the slots routed to it in ascending slot (so token) order.
    public let assignments: [ExpertAssignment]
    /// For each slot, the row it occupies in its expert's gathered input.
    public let rowOfSlot: [Int]

    /// A decision from per-slot experts and weights; throws if the counts or expert indices are out of range.
    public init(tokenCount: Int, expertCount: Int, topK: Int, experts: [Int], weights: [Float]) throws {
        guard experts.count == tokenCount * topK, weights.count == experts.count else {
            throw ModelError.invalidBatch(
                "routing of \(tokenCount) tokens x top-\(topK) with \(experts.count) experts, \(weights.count) weights")
        }
        if let bad = experts.first(where: { !(0..<expertCount).contains($0) }) {
            throw ModelError.invalidBatch("expert \(bad) outside 0..<\(expertCount)")
        }
        self.tokenCount = tokenCount
        self.expertCount = expertCount
        self.topK = topK
        self.experts = experts
        self.weights = weights
        var slotsByExpert = Array(repeating: [Int](), count: expertCount)
        var rows = [Int](repeating: 0, count: experts.count)
        for (slot, expert) in experts.enumerated() {
            rows[slot] = slotsByExpert[expert].count
            slotsByExpert[expert].append(slot)
        }
        assignments = slotsByExpert.enumerated().map { expert, slots in
            ExpertAssignment(expert: expert, slots: slots, tokens: slots.map { $0 / topK })
        }
        rowOfSlot = rows
    }

    /// Number of token rows each expert receives.
    public var tokensPerExpert: [Int] { assignments.map(\.tokens.count) }
}

/// The token rows one expert receives.
public struct ExpertAssignment: Sendable, Equatable {
    /// The expert index.
    public let expert: Int
    /// Slots routed to this expert, ascending.
    public let slots: [Int]
    /// The token (row of the layer input) of each slot.
    public let tokens: [Int]
}
