import Tensors

/// A decoder-only MoE transformer on one device: embedding, blocks, output head; parameters live outside it.
///
/// Parameters are a `ParameterSet` whose canonical order is `parameterShapes`. The model offers the forward
/// pass, the input-gradient (B) pass that defers every weight gradient (W), and the full backward pass.
public struct MoETransformer: Sendable {
    /// The model shape.
    public let config: MoEConfig
    /// The layers, first to last.
    public let blocks: [TransformerBlock]
    /// Final norm, LM head and loss.
    public let head: OutputHead
    /// Name of the embedding matrix, [vocabulary, hidden].
    public let embeddingName = "embedding"

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
    }

    /// A model for `config`; throws for an invalid config or MLA attention (which only the cost model covers).
    public init(config: MoEConfig) throws {
        try config.validate()
        guard config.attention == .multiHead else {
            throw ModelError.unsupported("the real model implements multi-head attention only; MLA is costed only")
        }
        self.config = config
        blocks = (0..<config.layerCount).map { TransformerBlock(index: $0, config: config) }
        head = OutputHead(epsilon: config.normEpsilon)
    }

    /// Every parameter's name and shape, in canonical (flattening) order.
    public var parameterShapes: [(name: String, shape: [Int])] {
        let hidden = config.hiddenSize
        return [(embeddingName, [config.vocabularySize, hidden])] + blocks.flatMap(\.parameterShapes)
            + [(head.finalNorm.weightName, [hidden]), (head.weightName, [hidden, config.vocabularySize])]
    }

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
        var hidden = try embed(batch.tokens, parameters: parameters)
        var caches: [TransformerBlock.Cache] = []
        for block in blocks {
            let (output, cache) = try block.forward(
                hidden, sequenceLength: batch.sequenceLength, parameters: parameters)
            hidden = output
            caches.append(cache)
        }
        let (loss, headCache) = try head.forward(hidden, targets: batch.targets, parameters: parameters)
        return ForwardPass(loss: loss, tokens: batch.tokens, blockCaches: caches, headCache: headCache)
    }

    /// B for the whole model: input gradients back to the embedding; returns every deferred W task.
    public func backwardInput(_ pass: ForwardPass, parameters: ParameterSet) throws -> [WeightGradientTask] {
        var tasks: [WeightGradientTask] = []
        try backward(pass, parameters: parameters) { tasks += $0 }
        return tasks
    }

    /// Full backward (each layer's B then its W): the gradients of the mean loss, laid out like `parameters`.
    public func backward(_ pass: ForwardPass, parameters: ParameterSet) throws -> ParameterSet {
        var gradients = try parameters.zeros()
        try backward(pass, parameters: parameters) { try $0.accumulate(into: &gradients) }
        return gradients
    }

    /// Runs B layer by layer from the head down, handing each layer's W tasks to `weightWork` as they appear.
    private func backward(
        _ pass: ForwardPass, parameters: ParameterSet, weightWork: ([WeightGradientTask]) throws -> Void
    ) throws {
        let headBackward = try head.backwardInput(cache: pass.headCache, parameters: parameters)
        try weightWork(headBackward.weightTasks)
        var gradient = headBackward.inputGradient
        for (block, cache) in zip(blocks, pass.blockCaches).reversed() {
            let result = try block.backwardInput(gradient, cache: cache, parameters: parameters)
            try weightWork(result.weightTasks)
            gradient = result.inputGradient
        }
        try weightWork([
            .embedding(
                parameter: embeddingName, tokens: pass.tokens, vocabularySize: config.vocabularySize,
                outputGradient: gradient)
        ])
    }
}
