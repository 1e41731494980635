import Tensors

/// Causal multi-head self-attention over rows grouped into sequences: out = softmax(Q K^T / sqrt(d)) V Wo.
public struct AttentionLayer: Sendable {
    /// Parameter name prefix: `<prefix>.wq`, `.wk`, `.wv`, `.wo`, each [hidden, hidden].
    public let prefix: String
    /// Heads; each has hidden / headCount dimensions.
    public let headCount: Int

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var input: Tensor
        public var projectedQueries: Tensor
        public var projectedKeys: Tensor
        public var projectedValues: Tensor
        /// Attention probabilities, [sequence][head][query][key] with zeros above the diagonal.
        public var probabilities: [Float]
        public var context: Tensor
        public var sequenceLength: Int
    }

    /// Attention whose projections are named `<prefix>.wq` ... `<prefix>.wo`.
    public init(prefix: String, headCount: Int) {
        self.prefix = prefix
        self.headCount = headCount
    }

    /// The four projection names in canonical order.
    public var weightNames: [String] { ["wq", "wk", "wv", "wo"].map { "\(prefix).\($0)" } }

    /// Attention over `input` ([sequences * sequenceLength, hidden]); a token sees itself and earlier tokens.
    public func forward(
        _ input: Tensor, sequenceLength: Int, parameters: ParameterSet
    ) throws -> (output: Tensor, cache: Cache) {
        let names = weightNames
        let queries = try input.matmul(parameters.tensor(names[0]))
        let keys = try input.matmul(parameters.tensor(names[1]))
        let values = try input.matmul(parameters.tensor(names[2]))
        let geometry = try AttentionGeometry(shape: input.shape, headCount: headCount, sequenceLength: sequenceLength)
        let (probabilities, context) = try geometry.forward(
            queries: queries.scalars(), keys: keys.scalars(), values: values.scalars())
        let contextTensor = try Tensor(shape: input.shape, values: context)
        let output = try contextTensor.matmul(parameters.tensor(names[3]))
        let cache = Cache(
            input: input, projectedQueries: queries, projectedKeys: keys, projectedValues: values,
            probabilities: probabilities,
            context: contextTensor, sequenceLength: sequenceLength)
        return (output, cache)
    }

    /// B: the input gradient; the four projection gradients are returned as deferred W tasks.
    public func backwardInput(
        _ outputGradient: Tensor, cache: Cache, parameters: ParameterSet
    ) throws -> InputBackward {
        let names = weightNames
        let contextGradient = try outputGradient.matmul(parameters.tensor(names[3]), transposeOther: true)
        let geometry = try AttentionGeometry(
            shape: cache.input.shape, headCount: headCount, sequenceLength: cache.sequenceLength)
        let (dq, dk, dv) = try geometry.backward(
            contextGradient: contextGradient.scalars(), cache: cache)
        let shape = cache.input.shape
        let projectionGradients = try [dq, dk, dv].map { try Tensor(shape: shape, values: $0) }
        var inputGradient = try Tensor(zeros: shape)
        for (name, gradient) in zip(names, projectionGradients) {
            inputGradient = try inputGradient.adding(gradient.matmul(parameters.tensor(name), transposeOther: true))
        }
        var tasks = zip(names, projectionGradients).map { name, gradient in
            WeightGradientTask.linear(parameter: name, input: cache.input, outputGradient: gradient)
        }
        tasks.append(.linear(parameter: names[3], input: cache.context, outputGradient: outputGradient))
        return InputBackward(inputGradient: inputGradient, weightTasks: tasks)
    }
}
