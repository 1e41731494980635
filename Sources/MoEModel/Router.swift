import Tensors

/// The MoE gate: scores = softmax or sigmoid of x Wr, each token's top-k experts (optionally within its best
/// `groupLimit` of `groupCount` expert groups, as DeepSeek-V3's node-limited `Gate`), weights normalised over
/// the chosen experts and multiplied by `routeScale`.
public struct Router: Sendable {
    /// Name of Wr, [hidden, experts].
    public let weightName: String
    /// Routed experts to choose from.
    public let expertCount: Int
    /// Experts chosen per token.
    public let topK: Int
    /// Softmax or sigmoid scores.
    public let gateKind: GateKind
    /// Equal contiguous expert groups (one per node of the EP group); 1: no groups.
    public let groupCount: Int
    /// Groups a token may use (the node limit M); `groupCount`: no limit.
    public let groupLimit: Int
    /// Factor on the normalised combine weights (V3's `route_scale`).
    public let routeScale: Float

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var input: Tensor
        public var scores: Tensor
        public var routing: RoutingDecision
    }

    /// A gate whose matrix is the parameter `weightName`; `groupLimit` nil means every group. The groups are
    /// stored as given: `selection()` (and so `route`) throws when they do not fit the experts.
    public init(
        weightName: String, expertCount: Int, topK: Int, gateKind: GateKind, groupCount: Int = 1,
        groupLimit: Int? = nil, routeScale: Float = 1
    ) {
        self.weightName = weightName
        self.expertCount = expertCount
        self.topK = topK
        self.gateKind = gateKind
        self.groupCount = groupCount
        self.groupLimit = groupLimit ?? groupCount
        self.routeScale = routeScale
    }

    /// The node-limited selection rule; throws when the groups do not fit the experts.
    public func selection() throws -> GroupLimitedTopK {
        try GroupLimitedTopK(expertCount: expertCount, groupCount: groupCount, groupLimit: groupLimit, topK: topK)
    }

    /// Scores every token against every expert and picks each token's top-k (ties: lower expert index) among
    /// the experts of its best `groupLimit` groups (group score: sum of its two highest expert scores).
    public func route(_ input: Tensor, parameters: ParameterSet) throws -> (routing: RoutingDecision, cache: Cache) {
        let logits = try input.matmul(parameters.tensor(weightName))
        let scores = try gateKind == .softmax ? logits.softmaxLastDimension() : logits.sigmoid()
        let chosen = try choose(scores)
        var weights: [Float] = []
        for start in stride(from: 0, to: chosen.largestValues.count, by: topK) {
            let selected = chosen.largestValues[start..<(start + topK)]
            let total = selected.reduce(0, +)
            weights.append(contentsOf: selected.map { $0 / total * routeScale })
        }
        let routing = try RoutingDecision(
            tokenCount: input.rowCount, expertCount: expertCount, topK: topK, experts: chosen.indices,
            weights: weights)
        return (routing, Cache(input: input, scores: scores, routing: routing))
    }

    /// Top-k per row, within the allowed groups when the limit removes any.
    private func choose(_ scores: Tensor) throws -> (indices: [Int], largestValues: [Float]) {
        let rule = try selection()
        guard rule.limits else {
            let chosen = try scores.topK(topK)
            return (chosen.indices, chosen.largestValues)
        }
        let values = try scores.scalars()
        var result: (indices: [Int], largestValues: [Float]) = ([], [])
        for start in stride(from: 0, to: values.count, by: expertCount) {
            let chosen = rule.select(values[start..<(start + expertCount)])
            result.indices.append(contentsOf: chosen)
            result.largestValues.append(contentsOf: chosen.map { values[start + $0] })
        }
        return result
    }

    /// B: the input gradient from the gradient of each slot's combine weight; Wr's gradient is a deferred W task.
    ///
    /// With w_i = c s_i / S over the selected scores (c the route scale), ds_j = (c dw_j - sum_i dw_i w_i) / S
    /// for selected j and 0 otherwise (the group mask only selects, so it passes no gradient); then softmax or
    /// sigmoid backward to the logits.
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
                scoreGradients[token * expertCount + routing.experts[slot]] =
                    (routeScale * weightGradients[slot] - weighted) / total
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
