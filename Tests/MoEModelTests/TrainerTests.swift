import Testing

@testable import MoEModel

@Suite struct TrainerTests {
    static let config = MoEConfig(
        vocabularySize: 16, hiddenSize: 16, layerCount: 2, headCount: 2, routedExpertCount: 4, sharedExpertCount: 1,
        topK: 2, expertWidth: 16, denseWidth: 32, denseLayerCount: 1, gateKind: .sigmoid)
    static let training = TrainingConfig(
        seed: 42, steps: 30, microBatchesPerStep: 2, sequencesPerMicroBatch: 4, sequenceLength: 8,
        optimizer: AdamWConfig(learningRate: 1e-2, weightDecay: 0.01))

    @Test func lossDropsAndRepeatsBitForBit() throws {
        var first = try ReferenceTrainer(config: Self.config, training: Self.training)
        let losses = try first.train()
        #expect(losses.count == 30)
        let start = losses.prefix(3).reduce(0, +) / 3
        let end = losses.suffix(3).reduce(0, +) / 3
        #expect(start > 2.5, "initial loss near ln 16 or above, got \(start)")
        #expect(end < start - 1, "loss should drop by at least 1 nat: \(start) -> \(end)")
        var second = try ReferenceTrainer(config: Self.config, training: Self.training)
        #expect(try second.train() == losses)
        #expect(second.parameters == first.parameters)
    }

    @Test func differentSeedGivesDifferentLosses() throws {
        var training = Self.training
        training.steps = 2
        var a = try ReferenceTrainer(config: Self.config, training: training)
        training.seed = 43
        var b = try ReferenceTrainer(config: Self.config, training: training)
        #expect(try a.train() != b.train())
    }

    /// Averaging two micro-batches' gradients equals the gradient of one batch holding both (to fp32 rounding).
    @Test func accumulationMatchesOneLargeBatch() throws {
        var training = Self.training
        training.sequencesPerMicroBatch = 2
        let trainer = try ReferenceTrainer(config: Self.config, training: training)
        let (loss, gradients) = try trainer.lossAndGradients(step: 0)
        let parts = try trainer.batches(step: 0)
        let whole = try TokenBatch(
            tokens: parts.flatMap(\.tokens), targets: parts.flatMap(\.targets), sequenceLength: training.sequenceLength)
        let pass = try trainer.model.forward(whole, parameters: trainer.parameters)
        let direct = try trainer.model.backward(pass, parameters: trainer.parameters)
        #expect(abs(pass.loss - loss) < 1e-5)
        let (a, b) = (try gradients.flattened(), try direct.flattened())
        let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-5 * (b.map(abs).max() ?? 0))
    }

    @Test func markovDataIsDeterministicAndShifted() throws {
        let data = try MarkovDataset(vocabularySize: 16, sequenceLength: 8, seed: 5)
        let batch = try data.batch(step: 3, microBatch: 1, sequences: 2)
        #expect(batch == (try data.batch(step: 3, microBatch: 1, sequences: 2)))
        #expect(batch != (try data.batch(step: 3, microBatch: 0, sequences: 2)))
        #expect(Array(batch.tokens[1..<8]) == Array(batch.targets[0..<7]))
        #expect(batch.tokens.allSatisfy { (0..<16).contains($0) })
    }

    /// Negative indices and counts throw (they used to trap converting to UInt64 or forming a range).
    @Test func markovDataRejectsNegativeIndicesAndCounts() throws {
        let data = try MarkovDataset(vocabularySize: 16, sequenceLength: 8, seed: 5)
        let detail = { (step: Int, microBatch: Int, sequences: Int) in
            ModelError.invalidBatch(
                "Markov data: step \(step) and micro-batch \(microBatch) must be >= 0, sequences \(sequences) >= 1")
        }
        #expect(throws: detail(-1, 0, 2)) { try data.batch(step: -1, microBatch: 0, sequences: 2) }
        #expect(throws: detail(0, -3, 2)) { try data.batch(step: 0, microBatch: -3, sequences: 2) }
        #expect(throws: detail(0, 0, -2)) { try data.batch(step: 0, microBatch: 0, sequences: -2) }
        #expect(throws: detail(0, 0, 0)) { try data.batch(step: 0, microBatch: 0, sequences: 0) }
        #expect(try data.batch(step: 0, microBatch: 0, sequences: 1).tokens.count == 8)
    }
}
