import Tensors

/// A contiguous range of a model's layers, as one pipeline stage runs it: the embedding on the first stage,
/// the output head and loss on the last; `MoETransformer` is the single stage that covers every layer.
///
/// A stage offers F (forward, returning its cache), B (the input gradient plus the deferred W tasks) and W (the
/// tasks accumulated into the stage's gradients). Its parameters are the subset of the model's named by
/// `parameterShapes`, in the model's canonical order.
public struct ModelStage: Sendable {
    /// The whole model's shape.
    public let config: MoEConfig
    /// The layers this stage runs, a non-empty range inside `0..<config.layerCount`.
    public let layers: Range<Int>
    /// The blocks of `layers`, first to last.
    public let blocks: [TransformerBlock]
    /// Final norm, LM head and loss; present on the last stage only.
    public let head: OutputHead?
    /// Name of the embedding matrix, [vocabulary, hidden], held by the first stage.
    public static let embeddingName = "embedding"

    /// What F leaves for B.
    public struct Cache: Sendable {
        /// The input tokens (first stage only, for the embedding gradient).
        public var tokens: [Int]?
        /// One cache per block of the stage, first to last.
        public var blockCaches: [TransformerBlock.Cache]
        /// The output head's cache (last stage only).
        public var headCache: OutputHead.Cache?
        /// Mean cross-entropy over the batch tokens (last stage only).
        public var loss: Float?

        /// A cache; cost-only (phantom) runs keep an empty one per chunk.
        public init(
            tokens: [Int]? = nil, blockCaches: [TransformerBlock.Cache] = [], headCache: OutputHead.Cache? = nil,
            loss: Float? = nil
        ) {
            self.tokens = tokens
            self.blockCaches = blockCaches
            self.headCache = headCache
            self.loss = loss
        }
    }

    /// The result of F: the activation for the next stage (nil on the last) and the cache.
    public struct Forward: Sendable {
        /// [tokens, hidden] for the next stage; nil on the last stage, which produces the loss instead.
        public var output: Tensor?
        /// The cache for B.
        public var cache: Cache
    }

    /// The result of B: the gradient for the previous stage (nil on the first) and the deferred W work.
    public struct Backward: Sendable {
        /// d(loss)/d(stage input), [tokens, hidden]; nil on the first stage (its input is tokens).
        public var inputGradient: Tensor?
        /// Every weight gradient of the stage for this micro-batch, one task per parameter.
        public var weightTasks: [WeightGradientTask]
    }

    /// The stage running `layers` of a model with `config`; throws for an invalid config, MLA attention or a
    /// range that is empty or outside the model.
    public init(config: MoEConfig, layers: Range<Int>) throws {
        try config.validate()
        guard config.attention == .multiHead else {
            throw ModelError.unsupported("the real model implements multi-head attention only; MLA is costed only")
        }
        guard !layers.isEmpty, layers.lowerBound >= 0, layers.upperBound <= config.layerCount else {
            throw ModelError.invalidConfig(
                "stage layers \(layers.lowerBound)..<\(layers.upperBound) must be a non-empty range inside "
                    + "0..<\(config.layerCount)")
        }
        self.config = config
        self.layers = layers
        blocks = layers.map { TransformerBlock(index: $0, config: config) }
        head = layers.upperBound == config.layerCount ? OutputHead(epsilon: config.normEpsilon) : nil
    }

    /// Whether the stage embeds the input tokens.
    public var isFirst: Bool { layers.lowerBound == 0 }
    /// Whether the stage computes the loss.
    public var isLast: Bool { head != nil }

    /// The stage's parameters' names and shapes, in the model's canonical order.
    public var parameterShapes: [(name: String, shape: [Int])] {
        let hidden = config.hiddenSize
        var shapes: [(name: String, shape: [Int])] = []
        if isFirst { shapes.append((Self.embeddingName, [config.vocabularySize, hidden])) }
        shapes += blocks.flatMap(\.parameterShapes)
        if let head {
            shapes += [(head.finalNorm.weightName, [hidden]), (head.weightName, [hidden, config.vocabularySize])]
        }
        return shapes
    }

    /// The stage's parameters taken from the whole model's `parameters` (same values, stage order).
    public func parameters(from parameters: ParameterSet) throws -> ParameterSet {
        var subset = ParameterSet()
        for entry in parameterShapes { try subset.append(entry.name, parameters.tensor(entry.name)) }
        return subset
    }

    /// F of one micro-batch: the first stage embeds `batch.tokens` (`input` must be nil), the others take
    /// `input` ([tokens, hidden]); the last stage scores `batch.targets`.
    public func forward(_ input: Tensor?, batch: TokenBatch, parameters: ParameterSet) throws -> Forward {
        var hidden = try stageInput(input, batch: batch, parameters: parameters)
        var caches: [TransformerBlock.Cache] = []
        for block in blocks {
            let (output, cache) = try block.forward(
                hidden, sequenceLength: batch.sequenceLength, parameters: parameters)
            hidden = output
            caches.append(cache)
        }
        var cache = Cache(tokens: isFirst ? batch.tokens : nil, blockCaches: caches)
        guard let head else { return Forward(output: hidden, cache: cache) }
        let (loss, headCache) = try head.forward(hidden, targets: batch.targets, parameters: parameters)
        cache.headCache = headCache
        cache.loss = loss
        return Forward(output: nil, cache: cache)
    }

    /// B: the last stage starts from d(loss) = 1 (`outputGradient` must be nil), the others from
    /// `outputGradient`; every weight gradient is deferred.
    public func backwardInput(_ outputGradient: Tensor?, cache: Cache, parameters: ParameterSet) throws -> Backward {
        var tasks: [WeightGradientTask] = []
        let gradient = try backward(outputGradient, cache: cache, parameters: parameters) { tasks += $0 }
        return Backward(inputGradient: gradient, weightTasks: tasks)
    }

    /// W: runs `tasks` (from this stage's B) and adds their gradients into `gradients`.
    public func backwardWeight(_ tasks: [WeightGradientTask], into gradients: inout ParameterSet) throws {
        try tasks.accumulate(into: &gradients)
    }

    /// BW: B then W at once; returns the input gradient.
    public func backwardFull(
        _ outputGradient: Tensor?, cache: Cache, parameters: ParameterSet, into gradients: inout ParameterSet
    ) throws -> Tensor? {
        try backward(outputGradient, cache: cache, parameters: parameters) { try $0.accumulate(into: &gradients) }
    }

    /// Runs B layer by layer from the top down, handing each layer's W tasks to `weightWork` as they appear.
    func backward(
        _ outputGradient: Tensor?, cache: Cache, parameters: ParameterSet,
        weightWork: ([WeightGradientTask]) throws -> Void
    ) throws -> Tensor? {
        var gradient: Tensor
        switch (head, cache.headCache, outputGradient) {
        case (let head?, let headCache?, nil):
            let headBackward = try head.backwardInput(cache: headCache, parameters: parameters)
            try weightWork(headBackward.weightTasks)
            gradient = headBackward.inputGradient
        case (nil, nil, let outputGradient?):
            gradient = outputGradient
        default:
            throw ModelError.invalidBatch(
                "stage \(layers): the last stage starts B from its loss, every other stage from an output gradient")
        }
        guard cache.blockCaches.count == blocks.count else {
            throw ModelError.invalidBatch("stage \(layers): \(cache.blockCaches.count) block caches")
        }
        for (block, blockCache) in zip(blocks, cache.blockCaches).reversed() {
            let result = try block.backwardInput(gradient, cache: blockCache, parameters: parameters)
            try weightWork(result.weightTasks)
            gradient = result.inputGradient
        }
        guard isFirst else { return gradient }
        guard let tokens = cache.tokens else { throw ModelError.invalidBatch("stage \(layers): cache has no tokens") }
        try weightWork([embeddingTask(tokens: tokens, outputGradient: gradient)])
        return nil
    }

    /// The first block's input: the embedded `batch.tokens` on the first stage (`input` must be nil), `input`
    /// ([tokens, hidden]) on every other.
    public func stageInput(_ input: Tensor?, batch: TokenBatch, parameters: ParameterSet) throws -> Tensor {
        switch (isFirst, input) {
        case (true, nil): return try parameters.tensor(Self.embeddingName).gatheringRows(batch.tokens)
        case (false, let input?): return input
        default:
            throw ModelError.invalidBatch(
                "stage \(layers): the first stage takes tokens only, every other stage an activation")
        }
    }

    /// The embedding's W task for the first block's input gradient `outputGradient` on `tokens`.
    public func embeddingTask(tokens: [Int], outputGradient: Tensor) -> WeightGradientTask {
        .embedding(
            parameter: Self.embeddingName, tokens: tokens, vocabularySize: config.vocabularySize,
            outputGradient: outputGradient)
    }
}
