import MoEModel

/// What a data-parallel run trains: the model, the ZeRO stage, the batch per rank and the optimizer.
///
/// Micro-batch assignment: each step's global batch is `ranks × microBatchesPerRank` micro-batches (global
/// indices 0 …); DP rank r runs global micro-batches `r·M … r·M + M − 1` (M = `microBatchesPerRank`), so rank 0
/// runs the first M the reference trainer accumulates.
public struct DataParallelConfig: Sendable {
    /// The model shape.
    public var model: MoEConfig
    /// What is partitioned.
    public var stage: ZeROStage
    /// Optimizer steps.
    public var steps: Int
    /// Micro-batches per DP rank per step (Megatron's `num_microbatches`).
    public var microBatchesPerRank: Int
    /// Sequences per micro-batch.
    public var sequencesPerMicroBatch: Int
    /// Tokens per sequence.
    public var sequenceLength: Int
    /// Fixes initial parameters and data (as `ReferenceTrainer`).
    public var seed: UInt64
    /// Real values (checked against the reference) or phantom shapes with the same timing.
    public var isReal: Bool
    /// AdamW moments in BF16 (K = 8, DeepSeek-V3) instead of fp32 (K = 12). Memory only: the numerics keep fp32
    /// moments so real runs still match the reference trainer.
    public var bf16Moments: Bool
    /// AdamW hyper-parameters.
    public var optimizer: AdamWConfig
    /// The first message tag the run's collectives use; it uses tags from here upwards.
    public var tagBase: Int
    /// Layers per bucket (stage 2 reduce-scatters and stage 3 gathers a bucket at a time; DeepSpeed's bucket
    /// sizes play this role). 1: one bucket per layer.
    public var layersPerBucket = 1

    /// A run description; `validate` in the trainer checks it against the communicator.
    public init(
        model: MoEConfig, stage: ZeROStage, steps: Int = 1, microBatchesPerRank: Int = 1,
        sequencesPerMicroBatch: Int, sequenceLength: Int, seed: UInt64 = 0, isReal: Bool = true,
        bf16Moments: Bool = false, optimizer: AdamWConfig = AdamWConfig(), tagBase: Int = 1 << 48
    ) {
        self.model = model
        self.stage = stage
        self.steps = steps
        self.microBatchesPerRank = microBatchesPerRank
        self.sequencesPerMicroBatch = sequencesPerMicroBatch
        self.sequenceLength = sequenceLength
        self.seed = seed
        self.isReal = isReal
        self.bf16Moments = bf16Moments
        self.optimizer = optimizer
        self.tagBase = tagBase
    }

    /// Bytes of optimizer state per parameter (K).
    public var optimizerBytesPerParameter: Int { ModelStateMemory.optimizerBytesPerParameter(bf16Moments: bf16Moments) }

    /// The reference trainer's config for the same global batch over `ranks` ranks.
    public func referenceTraining(ranks: Int) -> TrainingConfig {
        TrainingConfig(
            seed: seed, steps: steps, microBatchesPerStep: ranks * microBatchesPerRank,
            sequencesPerMicroBatch: sequencesPerMicroBatch, sequenceLength: sequenceLength, optimizer: optimizer)
    }

    /// The global micro-batch indices DP rank `rank` runs in each step.
    public func microBatches(rank: Int) -> Range<Int> {
        (rank * microBatchesPerRank)..<((rank + 1) * microBatchesPerRank)
    }
}

/// What a data-parallel run measured.
public struct DataParallelResult: Sendable {
    /// One report per step (loss: the global batch's mean, summed in global micro-batch order).
    public var steps: [StepReport]
    /// Ψ.
    public var parameterCount: Int
    /// Bytes each rank sent in DP collectives in the last step (from its `commOut` link), by rank.
    public var bytesSentPerRank: [Int]
    /// Real runs: every rank's full parameter vector after the last step (stage 3: its shards gathered).
    public var rankParameters: [[Float]]?
    /// The model states each rank holds (rank 0), by the formula the run charged.
    public var modelStates: ModelStateMemory
}

extension DataParallelResult {
    /// The largest relative difference of any rank's parameters against `reference`: per rank
    /// max |p − p_ref| / max |p_ref| over the whole vector (the infinity-norm relative error); nil when phantom.
    public func maxRelativeDifference(to reference: [Float]) -> Double? {
        guard let rankParameters else { return nil }
        let scale = reference.reduce(0) { max($0, Double(abs($1))) }
        return rankParameters.map { parameters -> Double in
            guard parameters.count == reference.count else { return .infinity }
            let difference = zip(parameters, reference).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
            return difference / max(scale, .leastNonzeroMagnitude)
        }.max()
    }
}
