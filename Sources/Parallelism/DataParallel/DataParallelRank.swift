import Collectives
import Hardware
import MoEModel
import SimCore
import Tensors

/// One DP rank's training loop on its GPU: its micro-batches' forward and backward (numerics when real, time
/// from the cost model always), its gradient collectives, and AdamW on what it owns.
struct DataParallelRank: Sendable {
    /// What one step measured on this rank.
    struct StepRecord: Sendable {
        var end: SimInstant
        var computeTime: SimDuration
        var optimizerTime: SimDuration
        /// Real runs: the loss of each of the rank's micro-batches, in order.
        var losses: [Float]
        /// Bytes that left the GPU through its comm egress during the step.
        var bytesSent: Int
    }

    /// What the rank ends with.
    struct Outcome: Sendable {
        var steps: [StepRecord]
        /// Real runs: the full parameters (stages 0–2) or the rank's shard (stage 3); empty when phantom.
        var parameters: [Float]
    }

    let trainer: DataParallelTrainer
    let rank: Int
    let gpu: GPU
    /// Real runs: the model, a parameter template for unflattening, and the data.
    let model: MoETransformer?
    let template: ParameterSet?
    let dataset: MarkovDataset?
    /// The full parameter vector (BF16 on the wire; real values are the fp32 master's).
    private var full: Tensor
    /// Real runs: the fp32 master of what the rank owns (stage 0: everything; else its shard).
    private var master: [Float]
    private var optimizer: AdamW?
    private var nextTagIndex = 0

    private var config: DataParallelConfig { trainer.config }
    private var layout: ShardLayout { trainer.layout }
    private var stage: ZeROStage { config.stage }

    init(trainer: DataParallelTrainer, rank: Int, initial: ParameterSet?, dataset: MarkovDataset?) throws {
        self.trainer = trainer
        self.rank = rank
        gpu = try trainer.communicator.gpu(rank: rank)
        self.dataset = dataset
        template = initial
        let count = trainer.layout.elementCount
        if let initial {
            model = try MoETransformer(config: trainer.config.model)
            let values = try initial.flattened()
            full = try Tensor(shape: [count], values: values, dtype: .bf16)
            master =
                trainer.config.stage.shardsOptimizer ? try trainer.layout.shard(of: full, rank: rank).scalars() : values
            optimizer = AdamW(config: trainer.config.optimizer, parameterCount: master.count)
        } else {
            model = nil
            full = try Tensor(phantom: [count], dtype: .bf16)
            master = []
            optimizer = nil
        }
    }

    /// Charges the persistent model states, runs every step, frees the states, and returns the records.
    mutating func train() async throws -> Outcome {
        let states = trainer.modelStates(rank: rank)
        try await gpu.allocate(states.parameterBytes, .parameters)
        try await gpu.allocate(states.gradientBytes, .gradients)
        try await gpu.allocate(states.optimizerBytes, .optimizerState)
        var records: [StepRecord] = []
        for step in 0..<config.steps { records.append(try await self.step(step)) }
        // The run ends like a training process: its model states are released (peaks stay on record).
        try await gpu.free(states.parameterBytes, .parameters)
        try await gpu.free(states.gradientBytes, .gradients)
        try await gpu.free(states.optimizerBytes, .optimizerState)
        return Outcome(steps: records, parameters: stage.shardsParameters ? master : (try? full.scalars()) ?? [])
    }

    /// A runner whose tags no other collective of this run uses (every rank draws them in the same order).
    private mutating func runner() -> CollectiveRunner {
        defer { nextTagIndex += 1 }
        return CollectiveRunner(
            communicator: trainer.communicator, tagBase: config.tagBase + CollectiveRunner.tagStride * nextTagIndex)
    }

    private func runKernel(_ kernel: Kernel) async throws -> SimDuration {
        let time = await gpu.compute.duration(of: kernel)
        try await gpu.compute.run(kernel)
        return time
    }

    private mutating func step(_ step: Int) async throws -> StepRecord {
        let bytesBefore = await gpu.commOut.statistics.bytes
        var computeTime = SimDuration.zero
        var losses: [Float] = []
        var localGradient: Tensor?
        var pieces: [[Tensor?]] = Array(
            repeating: Array(repeating: nil, count: layout.buckets.count), count: config.microBatchesPerRank)
        try await withThrowingTaskGroup(of: (Int, Int, Tensor).self) { group in
            for (index, global) in config.microBatches(rank: rank).enumerated() {
                let activationBytes = trainer.activationBytesPerMicroBatch
                try await gpu.allocate(activationBytes, .activations)
                var gathered: [Tensor] = []
                for (b, bucket) in layout.buckets.enumerated() {
                    if stage.shardsParameters { gathered.append(try await gatherBucket(b)) }
                    computeTime = computeTime + (try await runKernel(OpKernels.forward(bucket.ops, name: bucket.name)))
                    if stage.shardsParameters { try await gpu.free(2 * bucket.elementCount, .parameters) }
                }
                let parameters = stage.shardsParameters ? try ShardLayout.concatenate(gathered, like: full) : full
                let (loss, gradient) = try microBatch(step: step, global: global, parameters: parameters)
                if let loss { losses.append(loss) }
                for (b, bucket) in layout.buckets.enumerated().reversed() {
                    if stage.shardsParameters { _ = try await gatherBucket(b) }
                    computeTime = computeTime + (try await runKernel(OpKernels.backward(bucket.ops, name: bucket.name)))
                    if stage.shardsParameters { try await gpu.free(2 * bucket.elementCount, .parameters) }
                    guard stage.shardsGradients else { continue }
                    let bucketGradient = try layout.bucket(of: gradient, b)
                    let bufferBytes = 2 * bucket.elementCount
                    try await gpu.allocate(bufferBytes, .commBuffers)
                    let (runner, gpu, rank, algorithm) = (runner(), gpu, rank, trainer.algorithm)
                    group.addTask {
                        let piece = try await runner.reduceScatter(bucketGradient, rank: rank, algorithm: algorithm)
                        try await gpu.free(bufferBytes, .commBuffers)
                        return (index, b, piece)
                    }
                }
                if !stage.shardsGradients {
                    localGradient = try localGradient.map { try $0.adding(gradient) } ?? gradient
                }
                try await gpu.free(activationBytes, .activations)
            }
            for try await (index, b, piece) in group { pieces[index][b] = piece }
        }
        let ownedGradient = try await reduceGradients(localGradient: localGradient, pieces: pieces)
        let owned = stage.shardsOptimizer ? layout.shardElementCount(rank: rank) : layout.elementCount
        let optimizerTime = try await runKernel(
            OpKernels.optimizerStep(elements: owned, stateBytesPerElement: config.optimizerBytesPerParameter))
        try applyOptimizer(ownedGradient)
        if stage == .optimizerStates || stage == .gradients { try await gatherParameters() }
        if stage == .plain, !master.isEmpty { full = try Tensor(shape: [master.count], values: master, dtype: .bf16) }
        let bytesAfter = await gpu.commOut.statistics.bytes
        return StepRecord(
            end: gpu.simulation.now, computeTime: computeTime, optimizerTime: optimizerTime, losses: losses,
            bytesSent: bytesAfter - bytesBefore)
    }

    /// Loss and flat gradient of one micro-batch (phantom: no loss, a phantom gradient).
    private func microBatch(step: Int, global: Int, parameters: Tensor) throws -> (Float?, Tensor) {
        guard let model, let template, let dataset else {
            return (nil, try Tensor(phantom: [layout.elementCount], dtype: .bf16))
        }
        let batch = try dataset.batch(step: step, microBatch: global, sequences: config.sequencesPerMicroBatch)
        let values = try template.unflattened(try parameters.scalars())
        let pass = try model.forward(batch, parameters: values)
        let gradient = try model.backward(pass, parameters: values).flattened()
        return (pass.loss, try Tensor(shape: [gradient.count], values: gradient, dtype: .bf16))
    }

    /// Stage 3: all-gathers bucket `b` of the parameters (charging the gathered bucket as parameters).
    private mutating func gatherBucket(_ b: Int) async throws -> Tensor {
        let bucket = layout.buckets[b]
        try await gpu.allocate(2 * bucket.elementCount, .parameters)
        let within = layout.buckets[..<b].reduce(0) { $0 + $1.pieceCounts[rank] }
        let mine =
            master.isEmpty
            ? try Tensor(phantom: [bucket.pieceCounts[rank]], dtype: .bf16)
            : try Tensor(
                shape: [bucket.pieceCounts[rank]], values: Array(master[within..<(within + bucket.pieceCounts[rank])]),
                dtype: .bf16)
        return try await runner().allGather(
            mine, rank: rank, elementCounts: bucket.pieceCounts, algorithm: trainer.algorithm)
    }

    /// The summed gradient of what the rank owns, scaled to the global batch's mean.
    private mutating func reduceGradients(localGradient: Tensor?, pieces: [[Tensor?]]) async throws -> Tensor {
        let summed: Tensor
        switch stage {
        case .plain:
            summed = try await runner().allReduce(localGradient ?? full, rank: rank, algorithm: trainer.algorithm)
        case .optimizerStates:
            summed = try await runner().reduceScatter(
                try layout.rankMajor(localGradient ?? full), rank: rank, blockCounts: layout.shardElementCounts,
                algorithm: trainer.algorithm)
        case .gradients, .parameters:
            // Each bucket's piece summed over the micro-batches in order, then the pieces in bucket order.
            let perBucket = try layout.buckets.indices.map { b in
                try pieces.map { $0[b] }.compactMap { $0 }.reduce(nil) { (sum: Tensor?, next: Tensor) in
                    try sum.map { try $0.adding(next) } ?? next
                } ?? Tensor(zeros: [0], dtype: .bf16)
            }
            summed = try ShardLayout.concatenate(perBucket, like: full)
        }
        return summed.scaled(by: 1 / Float(trainer.communicator.size * config.microBatchesPerRank))
    }

    /// AdamW on the owned values (real runs).
    private mutating func applyOptimizer(_ gradient: Tensor) throws {
        guard var optimizer, !master.isEmpty else { return }
        let values = try gradient.scalars()
        try optimizer.step(parameters: &master[...], gradients: values[...])
        self.optimizer = optimizer
    }

    /// Stages 1–2: all-gathers every rank's updated shard into the full parameters.
    private mutating func gatherParameters() async throws {
        let counts = layout.shardElementCounts
        let mine =
            master.isEmpty
            ? try Tensor(phantom: [counts[rank]], dtype: .bf16)
            : try Tensor(shape: [master.count], values: master, dtype: .bf16)
        let gathered = try await runner().allGather(
            mine, rank: rank, elementCounts: counts, algorithm: trainer.algorithm)
        full = try layout.flat(fromRankMajor: gathered)
    }
}
