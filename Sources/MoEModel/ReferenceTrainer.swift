import Tensors

/// What the reference trainer runs: seed, step count, micro-batching and the optimizer.
public struct TrainingConfig: Sendable, Hashable {
    /// Fixes initial parameters and data.
    public var seed: UInt64
    /// Optimizer steps `train()` runs.
    public var steps: Int
    /// Micro-batches whose gradients are accumulated (averaged) into one optimizer step.
    public var microBatchesPerStep: Int
    /// Sequences in each micro-batch.
    public var sequencesPerMicroBatch: Int
    /// Tokens per sequence.
    public var sequenceLength: Int
    /// AdamW hyper-parameters.
    public var optimizer: AdamWConfig

    /// A training run description.
    public init(
        seed: UInt64, steps: Int, microBatchesPerStep: Int, sequencesPerMicroBatch: Int, sequenceLength: Int,
        optimizer: AdamWConfig = AdamWConfig()
    ) {
        self.seed = seed
        self.steps = steps
        self.microBatchesPerStep = microBatchesPerStep
        self.sequencesPerMicroBatch = sequencesPerMicroBatch
        self.sequenceLength = sequenceLength
        self.optimizer = optimizer
    }
}

/// Single-device reference training: seeded init, Markov data, gradient accumulation, AdamW on the flat vector.
///
/// Distributed runs are checked against it: the same config and seed give bit-identical losses every run.
public struct ReferenceTrainer: Sendable {
    /// The model being trained.
    public let model: MoETransformer
    /// The run description.
    public let training: TrainingConfig
    /// Where the batches come from.
    public let dataset: MarkovDataset
    /// The current parameters.
    public private(set) var parameters: ParameterSet
    /// AdamW over the flattened parameters.
    public private(set) var optimizer: AdamW
    /// Steps completed so far.
    public private(set) var stepsDone = 0

    /// A trainer with seeded parameters and data; throws for an invalid config.
    public init(config: MoEConfig, training: TrainingConfig) throws {
        guard training.microBatchesPerStep > 0, training.sequencesPerMicroBatch > 0 else {
            throw ModelError.invalidConfig(
                "\(training.microBatchesPerStep) micro-batches of \(training.sequencesPerMicroBatch) sequences")
        }
        model = try MoETransformer(config: config)
        self.training = training
        dataset = try MarkovDataset(
            vocabularySize: config.vocabularySize, sequenceLength: training.sequenceLength,
            seed: SplitMix64.derivedSeed(training.seed, stream: 1))
        parameters = try model.initialParameters(seed: SplitMix64.derivedSeed(training.seed, stream: 0))
        optimizer = AdamW(config: training.optimizer, parameterCount: parameters.elementCount)
    }

    /// The micro-batches of step `step`.
    public func batches(step: Int) throws -> [TokenBatch] {
        try (0..<training.microBatchesPerStep).map {
            try dataset.batch(step: step, microBatch: $0, sequences: training.sequencesPerMicroBatch)
        }
    }

    /// Mean loss and mean gradients over the micro-batches of step `step`, at the current parameters.
    public func lossAndGradients(step: Int) throws -> (loss: Float, gradients: ParameterSet) {
        var gradients = try parameters.zeros()
        var lossSum: Float = 0
        for batch in try batches(step: step) {
            let pass = try model.forward(batch, parameters: parameters)
            lossSum += pass.loss
            try model.backwardInput(pass, parameters: parameters).accumulate(into: &gradients)
        }
        let scale = 1 / Float(training.microBatchesPerStep)
        return (lossSum * scale, try gradients.scaled(by: scale))
    }

    /// One optimizer step; returns the step's mean micro-batch loss (before the update).
    @discardableResult
    public mutating func step() throws -> Float {
        let (loss, gradients) = try lossAndGradients(step: stepsDone)
        var flat = try parameters.flattened()
        try optimizer.step(parameters: &flat[...], gradients: gradients.flattened()[...])
        parameters = try parameters.unflattened(flat)
        stepsDone += 1
        return loss
    }

    /// Runs the remaining configured steps and returns their losses.
    public mutating func train() throws -> [Float] {
        var losses: [Float] = []
        while stepsDone < training.steps { losses.append(try step()) }
        return losses
    }
}
