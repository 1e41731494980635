import MoEModel

/// The parameters of one pipeline stage, split the way a composed layout stores them: the non-expert ones
/// (embedding, attention, norms, gate, dense FFN, shared experts, head) on every DP_total rank of the stage, the
/// routed experts cut EP ways.
public struct StageParameters: Sendable, Equatable {
    /// Parameters every data-parallel rank of the stage holds in full (before ZeRO sharding).
    public var nonExpert: Int
    /// Routed-expert parameters of the stage's MoE layers, all experts (before the EP split).
    public var routedExpert: Int

    /// The counts of the stage running `layers` of `config` (the embedding if it starts at 0, the head if it ends
    /// at the last layer), from `CostModel`.
    public init(config: MoEConfig, layers: Range<Int>) throws {
        let costs = try CostModel(config: config, tokens: 1, sequenceLength: 1)
        let ops = costs.stageOps(layers: layers)
        routedExpert = ops.filter { $0.kind == .routedExperts }.reduce(0) { $0 + $1.parameterCount }
        nonExpert = ops.filter { $0.kind != .routedExperts }.reduce(0) { $0 + $1.parameterCount }
    }

    /// Routed-expert parameters one GPU of an EP group of `expertParallel` holds.
    public func routedExpertPerGPU(expertParallel: Int) -> Int { routedExpert / max(1, expertParallel) }
}
