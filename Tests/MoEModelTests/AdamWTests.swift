import Foundation
import Testing

@testable import MoEModel

@Suite struct AdamWTests {
    /// `torch.optim.AdamW`'s update in Double, one step at a time: the expected values of the tests below.
    ///
    /// p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    /// p -= lr (m / (1-b1^t)) / (sqrt(v) / sqrt(1-b2^t) + eps).
    private struct Reference {
        let config: AdamWConfig
        var parameters: [Double]
        var first: [Double]
        var second: [Double]
        var step = 0

        init(config: AdamWConfig, parameters: [Double]) {
            self.config = config
            self.parameters = parameters
            first = Array(repeating: 0, count: parameters.count)
            second = first
        }

        mutating func update(_ gradients: [Double]) {
            step += 1
            let t = Double(step)
            let (lr, b1, b2) = (config.learningRate, config.beta1, config.beta2)
            for i in parameters.indices {
                parameters[i] *= 1 - lr * config.weightDecay
                first[i] = b1 * first[i] + (1 - b1) * gradients[i]
                second[i] = b2 * second[i] + (1 - b2) * gradients[i] * gradients[i]
                let denominator = second[i].squareRoot() / (1 - pow(b2, t)).squareRoot() + config.epsilon
                parameters[i] -= lr * (first[i] / (1 - pow(b1, t))) / denominator
            }
        }
    }

    /// Three steps on two parameters against the Double reference, with lr 0.1, b1 0.9, b2 0.999, eps 1e-8,
    /// wd 0.01. Step 1 is also checked by hand: the bias-corrected m / sqrt(v) is sign(g), so
    /// p = 0.999 x [1, -2] - 0.1 x [1, -1].
    @Test func matchesPyTorchFormulaInDouble() throws {
        let config = AdamWConfig(learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)
        var optimizer = AdamW(config: config, parameterCount: 2)
        var parameters: [Float] = [1, -2]
        var reference = Reference(config: config, parameters: [1, -2])
        let gradients: [[Float]] = [[0.5, -1], [0.1, 0.2], [-0.3, 0.05]]
        for (step, gradient) in gradients.enumerated() {
            try optimizer.step(parameters: &parameters[...], gradients: gradient[...])
            reference.update(gradient.map(Double.init))
            if step == 0 {
                #expect(zip(reference.parameters, [0.899, -1.898]).allSatisfy { abs($0 - $1) < 1e-8 })
            }
            for (got, want) in zip(parameters, reference.parameters) {
                #expect(abs(Double(got) - want) < 2e-6, "step \(step + 1): \(got) vs \(want)")
            }
            for (got, want) in zip(optimizer.firstMoment + optimizer.secondMoment, reference.first + reference.second) {
                #expect(abs(Double(got) - want) <= 1e-6 * abs(want), "step \(step + 1) moments: \(got) vs \(want)")
            }
        }
        #expect(optimizer.stepCount == 3)
        // The parameters moved well beyond the tolerance, so the comparisons above are not vacuous.
        #expect(abs(reference.parameters[0] - 1) > 0.1 && abs(reference.parameters[1] + 2) > 0.1)
    }

    /// Two shard optimizers over halves of a vector update it exactly as one optimizer over all of it.
    @Test func shardsMatchWholeVector() throws {
        let config = AdamWConfig(learningRate: 0.05)
        var whole = AdamW(config: config, parameterCount: 4)
        var shards = [AdamW(config: config, parameterCount: 2), AdamW(config: config, parameterCount: 2)]
        var full: [Float] = [0.5, -1, 2, 0.25]
        var sharded = full
        for gradient: [Float] in [[0.1, 0.2, -0.3, 0.4], [1, -1, 0.5, 0]] {
            try whole.step(parameters: &full[...], gradients: gradient[...])
            try shards[0].step(parameters: &sharded[0..<2], gradients: gradient[0..<2])
            try shards[1].step(parameters: &sharded[2..<4], gradients: gradient[2..<4])
        }
        #expect(full == sharded)
        #expect(full != [0.5, -1, 2, 0.25])
    }

    @Test func rejectsWrongShardLength() {
        var optimizer = AdamW(config: AdamWConfig(), parameterCount: 3)
        var parameters: [Float] = [1, 2]
        #expect(throws: ModelError.self) { try optimizer.step(parameters: &parameters[...], gradients: [0, 0][...]) }
    }
}
