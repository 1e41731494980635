import Tensors

/// A decoder-only MoE transformer on one device: embedding, blocks, output head; parameters live outside it.
///
/// It is the single `ModelStage` that covers every layer: forward and backward are the stage's.
/// Parameters are a `ParameterSet` whose canonical order is `parameterShapes`. The model offers the forward
/// pass, the input-gradient (B) pass that defers every weight gradient (W), and the full backward pass.
public struct MoETransformer: Sendable {
    /// The model shape.
    public let config: MoEConfig
    /// The whole model as one pipeline stage (layers 0..<L, embedding and head).
    public let stage: ModelStage
    /// The layers, first to last.
    public let blocks: [TransformerBlock]
    /// Final norm, LM head and loss.
    public let head: OutputHead
    /// Name of the embedding matrix, [vocabulary, hidden].
    public let embeddingName = ModelStage.embeddingName

    /// Everything a forward pass leaves for the backward pass.
    public struct ForwardPass: Sendable {
        /// Mean cross-entropy over the batch tokens.
        public var loss: Float
        /// The input tokens (for the embedding gradient).
        public var tokens: [Int]
        /// One cache per block, first to last; MoE blocks expose their routing.
        public var blockCaches: [TransformerBlock.Cache]
        /// The output head's cache.
        public var headCache: OutputHead.Cache

        var stageCache: ModelStage.Cache {
            ModelStage.Cache(tokens: tokens, blockCaches: blockCaches, headCache: headCache, loss: loss)
        }
    }

    /// A model for `config`; throws for an invalid config or MLA attention (which only the cost model covers).
    public init(config: MoEConfig) throws {
        stage = try ModelStage(config: config, layers: 0..<config.layerCount)
        self.config = config
        blocks = stage.blocks
        head = OutputHead(epsilon: config.normEpsilon)
    }

    /// Every parameter's name and shape, in canonical (flattening) order.
    public var parameterShapes: [(name: String, shape: [Int])] { stage.parameterShapes }
    /// Seeded initial parameters: norm scales 1, embedding N(0, 1), matrices N(0, 1 / fan-in).
    ///
    /// Each tensor draws from its own stream derived from `seed` and its position, so values do not depend on
    /// the order tensors are created in.
    public func initialParameters(seed: UInt64) throws -> ParameterSet {
        var parameters = ParameterSet()
        for (position, entry) in parameterShapes.enumerated() {
            var generator = SplitMix64(seed: SplitMix64.derivedSeed(seed, stream: UInt64(position)))
            let count = entry.shape.reduce(1, *)
            let values: [Float]
            if entry.shape.count == 1 {
                values = Array(repeating: 1, count: count)
            } else {
                let std: Float = entry.name == embeddingName ? 1 : 1 / Float(entry.shape[0]).squareRoot()
                values = (0..<count).map { _ in generator.nextNormal() * std }
            }
            try parameters.append(entry.name, Tensor(shape: entry.shape, values: values))
        }
        return parameters
    }

    /// The embedding rows of `tokens`, [tokens, hidden].
    public func embed(_ tokens: [Int], parameters: ParameterSet) throws -> Tensor {
        try parameters.tensor(embeddingName).gatheringRows(tokens)
    }

    /// Loss and caches of one micro-batch.
    public func forward(_ batch: TokenBatch, parameters: ParameterSet) throws -> ForwardPass {
        let cache = try stage.forward(nil, batch: batch, parameters: parameters).cache
        guard let loss = cache.loss, let headCache = cache.headCache else {
            throw ModelError.invalidBatch("the full-range stage produced no loss")
        }
        return ForwardPass(loss: loss, tokens: batch.tokens, blockCaches: cache.blockCaches, headCache: headCache)
    }

    /// B for the whole model: input gradients back to the embedding; returns every deferred W task.
    public func backwardInput(_ pass: ForwardPass, parameters: ParameterSet) throws -> [WeightGradientTask] {
        try stage.backwardInput(nil, cache: pass.stageCache, parameters: parameters).weightTasks
    }

    /// Full backward (each layer's B then its W): the gradients of the mean loss, laid out like `parameters`.
    public func backward(_ pass: ForwardPass, parameters: ParameterSet) throws -> ParameterSet {
        var gradients = try parameters.zeros()
        _ = try stage.backwardFull(nil, cache: pass.stageCache, parameters: parameters, into: &gradients)
        return gradients
    }
}
