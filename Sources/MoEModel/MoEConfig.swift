/// How the gate turns router logits into expert scores.
public enum GateKind: String, Sendable, Hashable, CaseIterable {
    /// Softmax over all experts (DeepSeek-V2, Mixtral style).
    case softmax
    /// An independent sigmoid per expert (DeepSeek-V3).
    case sigmoid
}

/// Multi-head latent attention dimensions (DeepSeek-V2/V3); used by the cost model only.
public struct MultiLatentAttention: Sendable, Hashable {
    /// Width of the compressed query latent.
    public var queryLoraRank: Int
    /// Width of the compressed key-value latent.
    public var keyValueLoraRank: Int
    /// Per-head query/key dimensions that carry rotary position.
    public var ropeHeadDimension: Int
    /// Per-head query/key dimensions without position.
    public var nopeHeadDimension: Int
    /// Per-head value dimensions.
    public var valueHeadDimension: Int

    /// MLA dimensions as in DeepSeek-V3's public config.
    public static let deepSeekV3 = MultiLatentAttention(
        queryLoraRank: 1536, keyValueLoraRank: 512, ropeHeadDimension: 64, nopeHeadDimension: 128,
        valueHeadDimension: 128)

    /// MLA dimensions.
    public init(
        queryLoraRank: Int, keyValueLoraRank: Int, ropeHeadDimension: Int, nopeHeadDimension: Int,
        valueHeadDimension: Int
    ) {
        self.queryLoraRank = queryLoraRank
        self.keyValueLoraRank = keyValueLoraRank
        self.ropeHeadDimension = ropeHeadDimension
        self.nopeHeadDimension = nopeHeadDimension
        self.valueHeadDimension = valueHeadDimension
    }
}

/// The attention variant of a config: the real model implements multi-head attention; MLA is costed only.
public enum AttentionKind: Sendable, Hashable {
    case multiHead
    case multiLatent(MultiLatentAttention)
}

/// Shape of a decoder-only MoE transformer: dense SwiGLU FFN in the first layers, MoE FFN in the rest.
public struct MoEConfig: Sendable, Hashable {
    /// Tokens are 0..<vocabularySize.
    public var vocabularySize: Int
    /// Width of the residual stream.
    public var hiddenSize: Int
    /// Transformer blocks.
    public var layerCount: Int
    /// Attention heads.
    public var headCount: Int
    /// Routed experts per MoE layer.
    public var routedExpertCount: Int
    /// Shared experts per MoE layer, applied to every token.
    public var sharedExpertCount: Int
    /// Routed experts each token is sent to.
    public var topK: Int
    /// Intermediate width of each (routed or shared) expert.
    public var expertWidth: Int
    /// Intermediate width of the dense FFN layers.
    public var denseWidth: Int
    /// How many layers, from the first, use a dense FFN instead of MoE.
    public var denseLayerCount: Int
    /// Softmax or sigmoid gate scores.
    public var gateKind: GateKind
    /// Multi-head (real model) or MLA (cost model only).
    public var attention: AttentionKind
    /// Added to the mean square in every RMSNorm.
    public var normEpsilon: Float
    /// Equal contiguous groups of routed experts for node-limited routing (one per node of the EP group).
    public var expertGroupCount: Int = 1
    /// Groups a token may route to (the node limit M); nil: every group.
    public var expertGroupLimit: Int? = nil
    /// Factor on the normalised combine weights (DeepSeek-V3's `route_scale`, 2.5 in its config).
    public var routeScale: Float = 1

    /// A config; `validate()` checks it.
    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, routedExpertCount: Int,
        sharedExpertCount: Int, topK: Int, expertWidth: Int, denseWidth: Int, denseLayerCount: Int,
        gateKind: GateKind = .softmax, attention: AttentionKind = .multiHead, normEpsilon: Float = 1e-6
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.routedExpertCount = routedExpertCount
        self.sharedExpertCount = sharedExpertCount
        self.topK = topK
        self.expertWidth = expertWidth
        self.denseWidth = denseWidth
        self.denseLayerCount = denseLayerCount
        self.gateKind = gateKind
        self.attention = attention
        self.normEpsilon = normEpsilon
    }

    /// Whether layer `index` has an MoE FFN (otherwise a dense one).
    public func isMoELayer(_ index: Int) -> Bool {
        index >= denseLayerCount
    }

    /// Width of one attention head in multi-head attention.
    public var headDimension: Int { hiddenSize / max(headCount, 1) }

    /// Throws `ModelError.invalidConfig` naming the first inconsistent field.
    public func validate() throws {
        let positive: [(String, Int)] = [
            ("vocabularySize", vocabularySize), ("hiddenSize", hiddenSize), ("layerCount", layerCount),
            ("headCount", headCount), ("expertWidth", expertWidth), ("denseWidth", denseWidth),
        ]
        if let (name, value) = positive.first(where: { $0.1 < 1 }) {
            throw ModelError.invalidConfig("\(name) = \(value) must be at least 1")
        }
        guard hiddenSize % headCount == 0 else {
            throw ModelError.invalidConfig("hiddenSize \(hiddenSize) not divisible by headCount \(headCount)")
        }
        guard (0...layerCount).contains(denseLayerCount) else {
            throw ModelError.invalidConfig("denseLayerCount \(denseLayerCount) outside 0...\(layerCount)")
        }
        guard denseLayerCount == layerCount || (routedExpertCount >= 1 && (1...routedExpertCount).contains(topK)) else {
            throw ModelError.invalidConfig("topK \(topK) with \(routedExpertCount) routed experts")
        }
        guard sharedExpertCount >= 0 else {
            throw ModelError.invalidConfig("sharedExpertCount \(sharedExpertCount) is negative")
        }
        if denseLayerCount < layerCount {
            _ = try GroupLimitedTopK(
                expertCount: routedExpertCount, groupCount: expertGroupCount,
                groupLimit: expertGroupLimit ?? expertGroupCount, topK: topK)
        }
        guard routeScale > 0, routeScale.isFinite else {
            throw ModelError.invalidConfig("routeScale \(routeScale) must be positive")
        }
    }

    /// DeepSeek-V3 (without the MTP module): 61 layers, 3 dense, 1 shared + 256 routed experts, top-8, MLA, sigmoid
    /// gate with 8 expert groups of which a token uses at most 4, weights scaled by 2.5 — the fields of
    /// `inference/configs/config_671B.json` in deepseek-ai/DeepSeek-V3 (`n_expert_groups`, `n_limited_groups`,
    /// `route_scale`). The 8 groups are the 8 nodes of an EP64 group (the report's "at most 4 nodes").
    public static let deepSeekV3: MoEConfig = {
        var config = MoEConfig(
            vocabularySize: 129_280, hiddenSize: 7168, layerCount: 61, headCount: 128, routedExpertCount: 256,
            sharedExpertCount: 1, topK: 8, expertWidth: 2048, denseWidth: 18432, denseLayerCount: 3,
            gateKind: .sigmoid, attention: .multiLatent(.deepSeekV3))
        config.expertGroupCount = 8
        config.expertGroupLimit = 4
        config.routeScale = 2.5
        return config
    }()

    /// This config with node-limited routing for an EP group spanning `nodeCount` nodes: one expert group per
    /// node, a token sent to at most `limit` of them (no limit when `limit >= nodeCount`, DeepSeek-V3's M = 4 on
    /// fewer than 5 nodes). Throws when `nodeCount` does not divide the routed experts.
    public func nodeLimited(nodeCount: Int, limit: Int) throws -> MoEConfig {
        guard nodeCount >= 1, limit >= 1 else {
            throw ModelError.invalidConfig("node-limited routing over \(nodeCount) nodes, limit \(limit)")
        }
        var result = self
        result.expertGroupCount = nodeCount
        result.expertGroupLimit = limit < nodeCount ? limit : nil
        try result.validate()
        return result
    }
}
