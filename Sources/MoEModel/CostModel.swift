import Tensors

/// Parameter counts and per-op FLOPs and bytes for any `MoEConfig`, at any scale (no tensors are allocated).
///
/// Phantom runs at DeepSeek-V3 scale take their compute times from these numbers. A linear map of `in` to `out`
/// features on N rows costs 2 N in out FLOPs in each of F, B and W; causal attention over sequences of T tokens
/// scores T (T + 1) / 2 query-key pairs per sequence and head.
public struct CostModel: Sendable {
    /// The model shape being costed.
    public let config: MoEConfig
    /// Tokens in one micro-batch.
    public let tokens: Int
    /// Tokens per sequence (the causal attention span).
    public let sequenceLength: Int
    /// The dtype that sizes parameters and activations.
    public let dtype: DType
    /// Which activations a micro-batch keeps from F to W and what B recomputes (`ActivationPolicy`).
    public let activations: ActivationPolicy

    /// Parameter totals of the model.
    public struct ParameterCounts: Sendable, Hashable {
        /// All parameters (without the MTP module).
        public var total: Int
        /// Parameters one token uses: all but the routed experts it is not sent to.
        public var activated: Int
        /// The input embedding table (counted in both totals above).
        public var embedding: Int
    }

    /// A cost model for micro-batches of `tokens` tokens in sequences of `sequenceLength`; `activations` prices
    /// the activations kept from F to W (and under `.deepseek` adds the recomputation to B).
    public init(
        config: MoEConfig, tokens: Int, sequenceLength: Int, dtype: DType = .bf16,
        activations: ActivationPolicy = .full
    ) throws {
        try config.validate()
        guard sequenceLength > 0, tokens > 0, tokens % sequenceLength == 0 else {
            throw ModelError.invalidBatch("\(tokens) tokens in sequences of \(sequenceLength)")
        }
        self.config = config
        self.tokens = tokens
        self.sequenceLength = sequenceLength
        self.dtype = dtype
        self.activations = activations
    }

    /// Total, activated and embedding parameters.
    public var parameterCounts: ParameterCounts {
        let all = ops
        return ParameterCounts(
            total: all.reduce(0) { $0 + $1.parameterCount },
            activated: all.reduce(0) { $0 + $1.activatedParameterCount },
            embedding: config.vocabularySize * config.hiddenSize)
    }

    /// Every op of one micro-batch in execution order: embedding, each layer's ops, head.
    public var ops: [OpCost] {
        [embeddingOp] + (0..<config.layerCount).flatMap(layerOps) + [headOp]
    }

    /// The ops of layer `index`: attention, then a dense FFN or gate, dispatch, experts, combine.
    public func layerOps(_ index: Int) -> [OpCost] {
        let prefix = "layers.\(index)"
        let attention = attentionOp(name: prefix + ".attention")
        guard config.isMoELayer(index) else {
            let ffn = linearsOp(
                name: prefix + ".ffn", kind: .denseFFN, rows: tokens, shapes: swiGLUShapes(width: config.denseWidth),
                extraParameters: config.hiddenSize)
            return [attention, ffn]
        }
        return [attention] + moeOps(prefix: prefix)
    }

    /// Sum of F, B and W FLOPs over all ops of one micro-batch.
    public var totalFLOPs: Int { ops.reduce(0) { $0 + $1.totalFLOPs } }

    var embeddingOp: OpCost {
        let count = config.vocabularySize * config.hiddenSize
        return OpCost(
            name: "embedding", kind: .embedding, parameterCount: count, parameterBytes: bytes(count),
            inputBytes: tokens * 4, outputBytes: bytes(tokens * config.hiddenSize))
    }

    var headOp: OpCost {
        linearsOp(
            name: "head", kind: .head, rows: tokens, shapes: [(config.hiddenSize, config.vocabularySize)],
            extraParameters: config.hiddenSize)
    }

    func swiGLUShapes(width: Int) -> [(Int, Int)] {
        [(config.hiddenSize, width), (config.hiddenSize, width), (width, config.hiddenSize)]
    }

    /// Ops made of linear maps applied to `rows` rows; `extraParameters` are element-wise (norm) parameters.
    func linearsOp(
        name: String, kind: OpKind, rows: Int, shapes: [(input: Int, output: Int)], extraParameters: Int = 0
    ) -> OpCost {
        let weights = shapes.reduce(0) { $0 + $1.input * $1.output }
        let flops = shapes.reduce(0) { $0 + Tensor.matmulFLOPs(m: rows, k: $1.input, n: $1.output) }
        let parameters = weights + extraParameters
        var op = OpCost(
            name: name, kind: kind, parameterCount: parameters,
            activatedParameterCount: parameters,
            forwardFLOPs: flops, backwardInputFLOPs: flops, backwardWeightFLOPs: flops,
            parameterBytes: bytes(parameters), inputBytes: bytes(rows * (shapes.first?.input ?? 0)),
            outputBytes: bytes(rows * (shapes.last?.output ?? 0)))
        op.linearShapes = shapes.map { LinearShape(rows: rows, input: $0.input, output: $0.output) }
        return op
    }

    func bytes(_ elements: Int) -> Int {
        elements * dtype.bytesPerElement
    }

    /// Query-key pairs scored per head in one micro-batch under the causal mask.
    var causalPairs: Int {
        (tokens / sequenceLength) * sequenceLength * (sequenceLength + 1) / 2
    }
}
