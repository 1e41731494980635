import Foundation

/// AdamW hyper-parameters (PyTorch names and defaults).
public struct AdamWConfig: Sendable, Hashable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0.01
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// AdamW over one flat parameter vector or shard, with PyTorch's `torch.optim.AdamW` update order.
///
/// Per step t: p *= 1 - lr * wd; m = lerp(m, g, 1 - beta1); v = beta2 * v + (1 - beta2) * g^2;
/// p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps). Scalars are formed in Double and
/// rounded to Float, as PyTorch does, so the same state serves a full model or a ZeRO-1 shard.
public struct AdamW: Sendable {
    public let config: AdamWConfig
    /// First-moment estimate m, one per parameter of the shard.
    public private(set) var firstMoment: [Float]
    /// Second-moment estimate v.
    public private(set) var secondMoment: [Float]
    /// Steps taken so far.
    public private(set) var stepCount = 0

    /// An optimizer for a shard of `parameterCount` values, moments at zero.
    public init(config: AdamWConfig, parameterCount: Int) {
        self.config = config
        firstMoment = Array(repeating: 0, count: parameterCount)
        secondMoment = Array(repeating: 0, count: parameterCount)
    }

    /// Updates `parameters` in place from `gradients`; both must have the shard's length.
    public mutating func step(parameters: inout ArraySlice<Float>, gradients: ArraySlice<Float>) throws {
        guard parameters.count == firstMoment.count, gradients.count == firstMoment.count else {
            throw ModelError.invalidBatch(
                "AdamW shard of \(firstMoment.count): \(parameters.count) parameters, \(gradients.count) gradients")
        }
        stepCount += 1
        let lr = Double(config.learningRate)
        let decay = Float(1 - lr * Double(config.weightDecay))
        let stepSize = Float(lr / (1 - Self.power(config.beta1, stepCount)))
        let correction2Root = Float((1 - Self.power(config.beta2, stepCount)).squareRoot())
        let (beta2, epsilon) = (config.beta2, config.epsilon)
        let mixFirst = 1 - config.beta1
        let mixSecond = Float(1 - Double(beta2))
        for (offset, (index, gradient)) in zip(parameters.indices, gradients).enumerated() {
            let m = firstMoment[offset] + mixFirst * (gradient - firstMoment[offset])
            let v = secondMoment[offset] * beta2 + gradient * gradient * mixSecond
            firstMoment[offset] = m
            secondMoment[offset] = v
            let denominator = v.squareRoot() / correction2Root + epsilon
            parameters[index] = parameters[index] * decay - stepSize * (m / denominator)
        }
    }

    private static func power(_ base: Float, _ exponent: Int) -> Double {
        Foundation.pow(Double(base), Double(exponent))
    }
}
