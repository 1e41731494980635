import Collectives
import Hardware
import MoEModel
import SimCore
import Tensors

/// ZeRO data parallel over a communicator's GPUs: every rank trains its micro-batches of the global batch on
/// its own GPU actor, reduces gradients over the fabric and steps AdamW on what it owns (see `ZeROStage`).
///
/// Numerics (real runs) are the model's own forward and backward on each rank's parameters; the reductions go
/// through the per-rank ring collectives with real values, so ranks end bit-identical and within rounding of
/// `ReferenceTrainer` on the same global batch (only the summation order of gradients differs). Time comes from
/// the actors: each bucket's (embedding, layer, head) F and B+W from `CostModel` as kernels on the compute SMs
/// (`OpKernels`), AdamW as an HBM-bound kernel, collectives on the links. HBM is charged by kind from
/// `ModelStateMemory` (stage 3 adds the one gathered bucket while it is in use; stages 2 and 3 hold a bucket's
/// full gradient as a comm buffer until its reduce-scatter is done) plus one micro-batch's activations.
public struct DataParallelTrainer: Sendable {
    /// The run description.
    public let config: DataParallelConfig
    /// The DP group.
    public let communicator: Communicator
    /// Costs of one micro-batch.
    public let costModel: CostModel
    /// How the flat vector is cut.
    public let layout: ShardLayout
    /// The collectives' algorithm: rail-aware hierarchical when the group spans several nodes (node-major),
    /// else a ring.
    public let algorithm: CollectiveAlgorithm

    /// A trainer of `config` on `communicator`; throws naming a config the run cannot use.
    public init(config: DataParallelConfig, communicator: Communicator) throws {
        guard config.steps >= 1, config.microBatchesPerRank >= 1 else {
            throw ModelError.invalidConfig(
                "steps \(config.steps) and micro-batches \(config.microBatchesPerRank) must be at least 1")
        }
        costModel = try CostModel(
            config: config.model, tokens: config.sequencesPerMicroBatch * config.sequenceLength,
            sequenceLength: config.sequenceLength)
        layout = ShardLayout(
            costModel: costModel, rankCount: communicator.size, layersPerBucket: config.layersPerBucket)
        self.config = config
        self.communicator = communicator
        let spansNodes = Set(communicator.nodes).count > 1
        algorithm = spansNodes && (try? communicator.nodeMajorShape()) != nil ? .hierarchical : .ring
    }

    /// Ψ.
    public var parameterCount: Int { layout.elementCount }

    /// The persistent model states rank `rank` holds.
    public func modelStates(rank: Int) -> ModelStateMemory {
        ModelStateMemory(
            parameterCount: parameterCount, shardElements: layout.shardElementCount(rank: rank), stage: config.stage,
            optimizerBytesPerParameter: config.optimizerBytesPerParameter)
    }

    /// Bytes of activations one micro-batch keeps between its forward and its backward.
    public var activationBytesPerMicroBatch: Int { OpKernels.activationBytes(costModel.ops) }

    /// The most HBM rank `rank` needs at once, by kind: model states, one gathered bucket (stage 3) or one
    /// bucket's gradient buffer (stages 2–3), one micro-batch's activations.
    public func peakDemand(rank: Int) -> [(kind: MemoryKind, bytes: Int)] {
        let states = modelStates(rank: rank)
        let bucketBytes = 2 * layout.largestBucketElementCount
        return [
            (.parameters, states.parameterBytes + (config.stage.shardsParameters ? bucketBytes : 0)),
            (.gradients, states.gradientBytes), (.optimizerState, states.optimizerBytes),
            (.activations, activationBytesPerMicroBatch),
            (.commBuffers, config.stage.shardsGradients ? bucketBytes : 0),
        ]
    }

    /// Throws the `outOfMemory` error the run would hit on the first GPU that cannot hold its peak demand,
    /// given the GPUs' HBM now (`hbms[r]` for rank r).
    public func checkMemory(_ hbms: [HBM]) throws {
        for (rank, hbm) in hbms.enumerated() {
            var trial = hbm
            for (kind, bytes) in peakDemand(rank: rank) { try trial.allocate(bytes, kind) }
        }
    }

    /// Runs every step from inside a simulated process (one child task per rank) and returns the reports.
    public func run() async throws -> DataParallelResult {
        // Real runs start from the reference trainer's seeded parameters and read its data.
        let reference =
            config.isReal
            ? try ReferenceTrainer(config: config.model, training: config.referenceTraining(ranks: 1)) : nil
        let start = communicator.cluster.simulation.now
        let outcomes = try await withThrowingTaskGroup(of: (Int, DataParallelRank.Outcome).self) { group in
            for rank in 0..<communicator.size {
                let worker = try DataParallelRank(
                    trainer: self, rank: rank, initial: reference?.parameters, dataset: reference?.dataset)
                group.addTask {
                    var worker = worker
                    return (rank, try await worker.train())
                }
            }
            var results = [DataParallelRank.Outcome?](repeating: nil, count: communicator.size)
            for try await (rank, outcome) in group { results[rank] = outcome }
            return results.compactMap { $0 }
        }
        return try result(outcomes, start: start)
    }

    private func result(_ outcomes: [DataParallelRank.Outcome], start: SimInstant) throws -> DataParallelResult {
        var reports: [StepReport] = []
        var previousEnd = start
        for step in 0..<config.steps {
            let end = outcomes.map { $0.steps[step].end }.max() ?? previousEnd
            let slowest = outcomes.max { $0.steps[step].end < $1.steps[step].end } ?? outcomes[0]
            let record = slowest.steps[step]
            let stepTime = end - previousEnd
            let exposed = stepTime - record.computeTime - record.optimizerTime
            var loss: Float?
            if config.isReal {
                // The reference's order: micro-batch losses summed in global index order, then scaled.
                var sum: Float = 0
                for outcome in outcomes { for value in outcome.steps[step].losses { sum += value } }
                loss = sum * (1 / Float(communicator.size * config.microBatchesPerRank))
            }
            reports.append(
                StepReport(
                    loss: loss, stepTime: stepTime,
                    phases: [
                        .init(name: "compute", duration: record.computeTime),
                        .init(name: "dp communication (exposed)", duration: max(.zero, exposed)),
                        .init(name: "optimizer", duration: record.optimizerTime),
                    ]))
            previousEnd = end
        }
        var parameters: [[Float]]?
        if config.isReal {
            if config.stage.shardsParameters {
                let shards = try outcomes.map { try Tensor(shape: [$0.parameters.count], values: $0.parameters) }
                let full = try layout.flat(fromRankMajor: ShardLayout.concatenate(shards, like: shards[0]))
                parameters = Array(repeating: try full.scalars(), count: outcomes.count)
            } else {
                parameters = outcomes.map(\.parameters)
            }
        }
        return DataParallelResult(
            steps: reports, parameterCount: parameterCount,
            bytesSentPerRank: outcomes.map { $0.steps.last?.bytesSent ?? 0 }, rankParameters: parameters,
            modelStates: modelStates(rank: 0))
    }
}
