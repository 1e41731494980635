import Tensors

/// The FFN of a block: dense SwiGLU in the first layers, mixture of experts in the rest.
public enum FeedForward: Sendable {
    case dense(SwiGLUFFN)
    case moe(MoELayer)
}

/// What a block's FFN keeps for its backward pass.
public enum FeedForwardCache: Sendable {
    case dense(SwiGLUFFN.Cache)
    case moe(MoELayer.Cache)
}

/// One pre-norm decoder layer: h = x + Attention(Norm(x)); y = h + FFN(Norm(h)).
public struct TransformerBlock: Sendable {
    /// Layer number, from 0.
    public let index: Int
    /// Pre-attention norm.
    public let attentionNorm: RMSNormLayer
    /// Causal self-attention.
    public let attention: AttentionLayer
    /// Pre-FFN norm.
    public let ffnNorm: RMSNormLayer
    /// Dense or MoE FFN.
    public let feedForward: FeedForward
    let parameterShapes: [(name: String, shape: [Int])]

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var attentionNorm: RMSNormLayer.Cache
        public var attention: AttentionLayer.Cache
        public var ffnNorm: RMSNormLayer.Cache
        public var feedForward: FeedForwardCache
        /// The MoE routing decision of this pass, or nil for a dense layer.
        public var routing: RoutingDecision? {
            if case .moe(let cache) = feedForward { cache.routing } else { nil }
        }
    }

    /// Layer `index` of a model with `config`; its parameters are named `layers.<index>.*`.
    public init(index: Int, config: MoEConfig) {
        let prefix = "layers.\(index)"
        let hidden = config.hiddenSize
        self.index = index
        attentionNorm = RMSNormLayer(weightName: prefix + ".attn_norm", epsilon: config.normEpsilon)
        attention = AttentionLayer(prefix: prefix + ".attn", headCount: config.headCount)
        ffnNorm = RMSNormLayer(weightName: prefix + ".ffn_norm", epsilon: config.normEpsilon)
        var shapes: [(name: String, shape: [Int])] = [(attentionNorm.weightName, [hidden])]
        shapes += attention.weightNames.map { ($0, [hidden, hidden]) }
        shapes.append((ffnNorm.weightName, [hidden]))
        if config.isMoELayer(index) {
            let moe = MoELayer(prefix: prefix + ".moe", config: config)
            feedForward = .moe(moe)
            shapes.append((moe.router.weightName, [hidden, config.routedExpertCount]))
            for expert in moe.routedExperts + moe.sharedExperts {
                shapes += expert.parameterShapes(hiddenSize: hidden, width: config.expertWidth)
            }
        } else {
            let dense = SwiGLUFFN(prefix: prefix + ".ffn")
            feedForward = .dense(dense)
            shapes += dense.parameterShapes(hiddenSize: hidden, width: config.denseWidth)
        }
        parameterShapes = shapes
    }

    /// The block applied to `input` ([tokens, hidden], tokens grouped in sequences of `sequenceLength`).
    public func forward(
        _ input: Tensor, sequenceLength: Int, parameters: ParameterSet
    ) throws -> (output: Tensor, cache: Cache) {
        let half = try forwardAttention(input, sequenceLength: sequenceLength, parameters: parameters)
        let ffnOutput: Tensor
        let ffnCache: FeedForwardCache
        switch feedForward {
        case .dense(let dense):
            let result = try dense.forward(half.ffnInput, parameters: parameters)
            (ffnOutput, ffnCache) = (result.output, .dense(result.cache))
        case .moe(let moe):
            let result = try moe.forward(half.ffnInput, parameters: parameters)
            (ffnOutput, ffnCache) = (result.output, .moe(result.cache))
        }
        let cache = Cache(
            attentionNorm: half.cache.attentionNorm, attention: half.cache.attention, ffnNorm: half.cache.ffnNorm,
            feedForward: ffnCache)
        return (try half.output(adding: ffnOutput), cache)
    }

    /// B: the gradient for the block input; every weight gradient is deferred as a W task.
    public func backwardInput(
        _ outputGradient: Tensor, cache: Cache, parameters: ParameterSet
    ) throws -> InputBackward {
        let ffn: InputBackward
        switch (feedForward, cache.feedForward) {
        case (.dense(let dense), .dense(let denseCache)):
            ffn = try dense.backwardInput(outputGradient, cache: denseCache, parameters: parameters)
        case (.moe(let moe), .moe(let moeCache)):
            ffn = try moe.backwardInput(outputGradient, cache: moeCache, parameters: parameters)
        default:
            throw ModelError.invalidBatch("layer \(index): cache does not match the FFN kind")
        }
        return try backwardAttention(
            outputGradient, feedForward: ffn,
            cache: AttentionCache(
                attentionNorm: cache.attentionNorm, attention: cache.attention, ffnNorm: cache.ffnNorm),
            parameters: parameters)
    }
}
