import Collectives
import MoEModel

/// A stage copy whose MoE layers run as expert-parallel layers across its EP group (the composed PP × EP × DP
/// trainer): the copy holds the stage's non-expert parameters and its EP rank's routed experts only.
///
/// Every GPU of the EP group runs the same schedule on its own micro-batches, so each MoE layer of each chunk is
/// one call of the layer by all of them at once, under one tag base.
struct StageExpertParallel: Sendable {
    /// Per layer of the stage, in order: its expert-parallel layer, nil for a dense layer.
    let layers: [ExpertParallelLayer?]
    /// This GPU's rank in the EP group.
    let rank: Int
    /// Layers of the whole model (the tag stride of one chunk).
    let modelLayers: Int
    /// Indices of the copy's parameter entries that are its routed experts (ascending); ZeRO-1 shards them over
    /// the expert-DP group, the other entries over the DP group.
    let expertEntries: [Int]
    /// Elements of the copy's routed experts (in phantom runs too).
    let expertParameterCount: Int
    /// The expert-DP group: the DP_replica GPUs holding the same experts (nil when DP_replica = 1).
    let expertData: StageDataParallel?
    /// The first EP tag, clear of the pipeline's and data parallelism's.
    static let tagBase = 1 << 40

    /// The tag base of layer `offset` (in the stage) for `chunk`: one layer call's span per (chunk, layer),
    /// reused every step. Chunks are `modelLayers` calls apart, so two copies of different lengths on one GPU
    /// (DualPipe) never share a tag.
    func tagBase(chunk: PipelineChunk, layerOffset: Int, schedule: PipelineSchedule) -> Int {
        let lane = chunk.direction.rawValue * schedule.stageCount + chunk.stage
        let call = (lane * schedule.microBatchesPerDirection + chunk.microBatch) * modelLayers + layerOffset
        return Self.tagBase + call * ExpertParallelLayer.tagsPerCall
    }

    /// The routed-expert parameter names of the `config` layers `layers` that live on EP rank `rank` of
    /// `expertParallel` (true) or elsewhere (false); lookup only, never iterated.
    static func expertOwnership(
        config: MoEConfig, layers: Range<Int>, rank: Int, expertParallel: Int
    ) -> [String: Bool] {
        let perRank = config.routedExpertCount / expertParallel
        var owners: [String: Bool] = [:]  // lookup only, never iterated
        for layer in layers where config.isMoELayer(layer) {
            for expert in 0..<config.routedExpertCount {
                let ffn = SwiGLUFFN(prefix: "layers.\(layer).moe.experts.\(expert)")
                for entry in ffn.parameterShapes(hiddenSize: config.hiddenSize, width: config.expertWidth) {
                    owners[entry.name] = expert / perRank == rank
                }
            }
        }
        return owners
    }

    /// Routed-expert parameters of one layer not held by a rank of an EP group of `expertParallel` (for counting
    /// in phantom runs): (E − E/EP) × 3 × hidden × expert width.
    static func remoteExpertParameters(config: MoEConfig, expertParallel: Int) -> Int {
        let remote = config.routedExpertCount - config.routedExpertCount / expertParallel
        return remote * 3 * config.hiddenSize * config.expertWidth
    }
}

extension StageExpertParallel {
    /// What an expert-parallel chunk's F keeps for its B (numerics absent in phantom runs).
    struct ChunkCache: Sendable {
        /// What one block kept: its attention half and its FFN's cache.
        struct Block: Sendable {
            var attention: TransformerBlock.AttentionCache?
            var dense: SwiGLUFFN.Cache?
            var expert: ExpertParallelLayer.Cache?
        }

        /// The input tokens (first stage only).
        var tokens: [Int]?
        var blocks: [Block] = []
        /// The output head's cache (last stage only).
        var head: OutputHead.Cache?
    }
}
