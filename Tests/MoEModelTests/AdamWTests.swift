import Testing

@testable import MoEModel

@Suite struct AdamWTests {
    /// Three steps on two parameters, expected values worked out by hand (in Double) from
    /// p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
    /// with lr 0.1, b1 0.9, b2 0.999, eps 1e-8, wd 0.01. Step 1: p = 0.999 * [1, -2] - 0.1 * [1, -1].
    @Test func matchesHandComputedSteps() throws {
        let config = AdamWConfig(learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)
        var optimizer = AdamW(config: config, parameterCount: 2)
        var parameters: [Float] = [1, -2]
        let gradients: [[Float]] = [[0.5, -1], [0.1, 0.2], [-0.3, 0.05]]
        let expected: [[Double]] = [
            [0.899_000_002, -1.898_000_001], [0.817_796_906, -1.844_999_394], [0.795_907_815, -1.806_830_765],
        ]
        for (gradient, want) in zip(gradients, expected) {
            try optimizer.step(parameters: &parameters[...], gradients: gradient[...])
            for (got, value) in zip(parameters, want) { #expect(abs(Double(got) - value) < 2e-6) }
        }
        #expect(optimizer.stepCount == 3)
        #expect(abs(optimizer.firstMoment[0] - 0.0195) < 1e-7)
        #expect(abs(optimizer.secondMoment[1] - 0.001_040_461) < 2e-8)
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
