import Foundation

/// AdamW hyper-parameters (PyTorch names and defaults), in Double like PyTorch's Python floats.
public struct AdamWConfig: Sendable, Hashable {
    /// Step size lr.
    public var learningRate: Double
    /// Decay of the first-moment average.
    public var beta1: Double
    /// Decay of the second-moment average.
    public var beta2: Double
    /// Added to the denominator for stability.
    public var epsilon: Double
    /// Decoupled weight decay: p *= 1 - lr * weightDecay each step.
    public var weightDecay: Double

    /// Hyper-parameters; defaults are PyTorch's.
    public init(
        learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
        weightDecay: Double = 0.01
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
/// rounded to Float, as PyTorch does for float32 tensors. It updates any flat slice, so the same code serves a
/// full model or a ZeRO-1 shard.
public struct AdamW: Sendable {
    /// The hyper-parameters.
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
        let lr = config.learningRate
        let decay = Float(1 - lr * config.weightDecay)
        let stepSize = Float(lr / (1 - Foundation.pow(config.beta1, Double(stepCount))))
        let correction2Root = Float((1 - Foundation.pow(config.beta2, Double(stepCount))).squareRoot())
        let (beta2, epsilon) = (Float(config.beta2), Float(config.epsilon))
        let (mixFirst, mixSecond) = (Float(1 - config.beta1), Float(1 - config.beta2))
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        for i in 0..<p.count {
                            m[i] = m[i] + mixFirst * (g[i] - m[i])
                            v[i] = v[i] * beta2 + mixSecond * g[i] * g[i]
                            let denominator = v[i].squareRoot() / correction2Root + epsilon
                            p[i] = p[i] * decay - stepSize * (m[i] / denominator)
                        }
                    }
                }
            }
        }
    }
}
