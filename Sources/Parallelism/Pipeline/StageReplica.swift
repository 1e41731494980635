import MoEModel

/// One copy of one model stage on a stage worker: its parameters, accumulated gradients and optimizer.
///
/// DualPipe holds two copies of every stage (one per direction, on the devices r and PP−1−r); every other
/// schedule one.
struct StageReplica: Sendable {
    /// The stage index (0 embeds, the last computes the loss).
    let stageIndex: Int
    /// The direction whose micro-batches this copy computes.
    let direction: PipelineDirection
    /// The layers the copy runs.
    let layers: Range<Int>
    /// The layers' passes; nil in a cost-only (phantom) run, which moves shapes only.
    let stage: ModelStage?
    /// How many parameters the stage has (in phantom runs too).
    let parameterCount: Int
    /// The stage's parameters, updated by the optimizer after every step (empty in phantom runs).
    var parameters: ParameterSet
    /// Gradients summed over the step's micro-batches (not yet averaged).
    var gradients: ParameterSet
    /// AdamW over the flattened stage parameters (its non-expert entries when `expertParallel` is set).
    var optimizer: AdamW
    /// The copy's MoE layers across its EP group, or nil when every expert is local.
    let expertParallel: StageExpertParallel?
    /// AdamW over the copy's routed experts (`expertParallel` set).
    var expertOptimizer: AdamW?
    /// HBM bytes one micro-batch's activations hold from its F until its W.
    let activationBytes: Int

    /// Whether the copy moves shapes only.
    var isPhantom: Bool { stage == nil }

    /// The entries the non-expert optimizer owns: all, or those that are not the copy's routed experts.
    var denseEntries: [Int] {
        guard let experts = expertParallel?.expertEntries else { return Array(parameters.entries.indices) }
        return parameters.entries.indices.filter { !experts.contains($0) }
    }

    /// `optimizer` as an optional, so ZeRO-1 treats both optimizers alike.
    var optimizerSlot: AdamW? {
        get { optimizer }
        set { if let newValue { optimizer = newValue } }
    }

    /// Whether this copy runs `chunk`.
    func runs(_ chunk: PipelineChunk) -> Bool { chunk.stage == stageIndex && chunk.direction == direction }
}
