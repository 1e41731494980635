import Foundation
import Tensors

/// Final RMSNorm, LM head and mean cross-entropy loss over the tokens of a micro-batch.
public struct OutputHead: Sendable {
    /// The norm before the LM head.
    public let finalNorm: RMSNormLayer
    /// Name of the LM head matrix, [hidden, vocabulary].
    public let weightName: String

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var norm: RMSNormLayer.Cache
        public var normalizedOutput: Tensor
        public var probabilities: Tensor
        public var targets: [Int]
    }

    /// The head with parameters `final_norm` and `lm_head`.
    public init(epsilon: Float) {
        finalNorm = RMSNormLayer(weightName: "final_norm", epsilon: epsilon)
        weightName = "lm_head"
    }

    /// The mean over tokens of -log softmax(logits)[target].
    public func forward(
        _ input: Tensor, targets: [Int], parameters: ParameterSet
    ) throws -> (loss: Float, cache: Cache) {
        let (normalized, normCache) = try finalNorm.forward(input, parameters: parameters)
        let logits = try normalized.matmul(parameters.tensor(weightName))
        let vocabulary = logits.shape[1]
        guard targets.count == logits.rowCount, targets.allSatisfy({ (0..<vocabulary).contains($0) }) else {
            throw ModelError.invalidBatch(
                "\(targets.count) targets for \(logits.rowCount) tokens, vocabulary \(vocabulary)")
        }
        let probabilities = try logits.softmaxLastDimension()
        let values = try probabilities.scalars()
        var total: Float = 0
        for (token, target) in targets.enumerated() {
            total -= Foundation.log(max(values[token * vocabulary + target], .leastNormalMagnitude))
        }
        let cache = Cache(norm: normCache, normalizedOutput: normalized, probabilities: probabilities, targets: targets)
        return (total / Float(targets.count), cache)
    }

    /// B with d(loss) = 1: dlogits = (softmax - onehot) / tokens; the LM head and norm gradients are W tasks.
    public func backwardInput(cache: Cache, parameters: ParameterSet) throws -> InputBackward {
        var gradient = try cache.probabilities.scalars()
        let vocabulary = cache.probabilities.shape[1]
        let scale = 1 / Float(cache.targets.count)
        for (token, target) in cache.targets.enumerated() { gradient[token * vocabulary + target] -= 1 }
        let logitGradient = try Tensor(shape: cache.probabilities.shape, values: gradient).scaled(by: scale)
        let normalizedGradient = try logitGradient.matmul(parameters.tensor(weightName), transposeOther: true)
        let norm = try finalNorm.backwardInput(normalizedGradient, cache: cache.norm, parameters: parameters)
        let head = WeightGradientTask.linear(
            parameter: weightName, input: cache.normalizedOutput, outputGradient: logitGradient)
        return InputBackward(inputGradient: norm.inputGradient, weightTasks: [head] + norm.weightTasks)
    }
}
