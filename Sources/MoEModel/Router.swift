import Tensors

/// The MoE gate: scores = softmax or sigmoid of x Wr, each token's top-k experts, weights normalised to sum 1.
public struct Router: Sendable {
    /// Name of Wr, [hidden, experts].
    public let weightName: String
    /// Routed experts to choose from.
    public let expertCount: Int
    /// Experts chosen per token.
    public let topK: Int
    /// Softmax or sigmoid scores.
    public let gateKind: GateKind

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var input: Tensor
        public var scores: Tensor
        public var routing: RoutingDecision
    }

    /// A gate whose matrix is the parameter `weightName`.
    public init(weightName: String, expertCount: Int, topK: Int, gateKind: GateKind) {
        self.weightName = weightName
        self.expertCount = expertCount
        self.topK = topK
        self.gateKind = gateKind
    }

    /// Scores every token against every expert and picks each token's top-k (ties: lower expert index).
    public func route(_ input: Tensor, parameters: ParameterSet) throws -> (routing: RoutingDecision, cache: Cache) {
        let logits = try input.matmul(parameters.tensor(weightName))
        let scores = try gateKind == .softmax ? logits.softmaxLastDimension() : logits.sigmoid()
        let chosen = try scores.topK(topK)
        var weights: [Float] = []
        for start in stride(from: 0, to: chosen.largestValues.count, by: topK) {
            let selected = chosen.largestValues[start..<(start + topK)]
            let total = selected.reduce(0, +)
            weights.append(contentsOf: selected.map { $0 / total })
        }
        let routing = try RoutingDecision(
            tokenCount: input.rowCount, expertCount: expertCount, topK: topK, experts: chosen.indices,
            weights: weights)
        return (routing, Cache(input: input, scores: scores, routing: routing))
    }

    /// B: the input gradient from the gradient of each slot's combine weight; Wr's gradient is a deferred W task.
    ///
    /// With w_i = s_i / S over the selected scores, ds_j = (dw_j - sum_i dw_i w_i) / S for selected j and 0
    /// otherwise; then softmax or sigmoid backward to the logits.
    public func backwardInput(weightGradients: [Float], cache: Cache, parameters: ParameterSet) throws -> InputBackward
    {
        let routing = cache.routing
        guard weightGradients.count == routing.experts.count else {
            throw TensorError.shapeMismatch(
                operation: "router backward", shapes: [[routing.experts.count], [weightGradients.count]])
        }
        let scores = try cache.scores.scalars()
        var scoreGradients = [Float](repeating: 0, count: scores.count)
        for token in 0..<routing.tokenCount {
            let slots = (token * topK)..<((token + 1) * topK)
            var total: Float = 0
            var weighted: Float = 0
            for slot in slots {
                total += scores[token * expertCount + routing.experts[slot]]
                weighted += weightGradients[slot] * routing.weights[slot]
            }
            for slot in slots {
                scoreGradients[token * expertCount + routing.experts[slot]] = (weightGradients[slot] - weighted) / total
            }
        }
        let logitGradients = try Tensor(
            shape: cache.scores.shape, values: logitGradient(scores: scores, scoreGradients: scoreGradients))
        let inputGradient = try logitGradients.matmul(parameters.tensor(weightName), transposeOther: true)
        let task = WeightGradientTask.linear(parameter: weightName, input: cache.input, outputGradient: logitGradients)
        return InputBackward(inputGradient: inputGradient, weightTasks: [task])
    }

    private func logitGradient(scores: [Float], scoreGradients: [Float]) -> [Float] {
        switch gateKind {
        case .sigmoid:
            return zip(scores, scoreGradients).map { s, ds in ds * s * (1 - s) }
        case .softmax:
            var result = [Float](repeating: 0, count: scores.count)
            for start in stride(from: 0, to: scores.count, by: expertCount) {
                let row = start..<(start + expertCount)
                var dot: Float = 0
                for index in row { dot += scores[index] * scoreGradients[index] }
                for index in row { result[index] = scores[index] * (scoreGradients[index] - dot) }
            }
            return result
        }
    }
}
