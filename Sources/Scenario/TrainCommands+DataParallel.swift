import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore

extension TrainCommands {
    /// Queues data-parallel training with ZeRO on the first `dp` GPUs: checks that the run fits in HBM (an
    /// out-of-memory error names GPU, kind and bytes), prints the plan, and spawns the trainer; real runs are
    /// compared with `ReferenceTrainer` on the same global batch when they finish.
    func queueDataParallel(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws {
        let gpuCount = cluster.spec.gpuCount
        let dpToken = line.option("dp") ?? line.command
        guard request.dataParallel <= gpuCount, gpuCount % request.dataParallel == 0 else {
            throw line.error(
                "dp=\(request.dataParallel) does not divide the cluster's \(gpuCount) GPUs", at: dpToken)
        }
        let trainer: DataParallelTrainer
        do {
            let communicator = try Communicator(
                cluster: cluster, ranks: (0..<request.dataParallel).map(GPUID.init))
            trainer = try DataParallelTrainer(config: dataParallelConfig(request), communicator: communicator)
        } catch {
            throw line.error("\(error)", at: dpToken)
        }
        do {
            try trainer.checkMemory(Array(cluster.memoryReports().prefix(request.dataParallel)))
        } catch {
            throw line.error(
                "\(error); 'memory params=\(trainer.parameterCount) dp=\(request.dataParallel)' shows what each ZeRO "
                    + "stage needs", at: line.option("zero") ?? dpToken)
        }
        nextTrainingTag += 1
        describe(trainer, request)
        let log = log
        let isReal = request.isReal
        session.simulation.spawn(name: "train dp=\(request.dataParallel) zero=\(request.zeroStage)") {
            let result = try await trainer.run()
            var difference: Double?
            if isReal {
                var reference = try ReferenceTrainer(
                    config: trainer.config.model,
                    training: trainer.config.referenceTraining(ranks: trainer.communicator.size))
                _ = try reference.train()
                difference = result.maxRelativeDifference(to: try reference.parameters.flattened())
            }
            await log.append(
                TrainingRun(
                    steps: result.steps, maxParameterDifference: difference,
                    dataParallelBytes: result.bytesSentPerRank.max(), parameterCount: result.parameterCount))
        }
    }

    private func dataParallelConfig(_ request: TrainRequest) -> DataParallelConfig {
        DataParallelConfig(
            model: request.config, stage: ZeROStage(rawValue: request.zeroStage) ?? .optimizerStates,
            steps: request.steps, microBatchesPerRank: request.microBatches,
            sequencesPerMicroBatch: request.preset.sequencesPerMicroBatch,
            sequenceLength: request.preset.sequenceLength, seed: request.seed, isReal: request.isReal,
            bf16Moments: request.bf16Moments, tagBase: Self.trainingTagBase + (nextTrainingTag << 32))
    }

    /// Training tags start here, above the collectives' (1 << 40 + …).
    static let trainingTagBase = 1 << 56

    private func describe(_ trainer: DataParallelTrainer, _ request: TrainRequest) {
        let states = trainer.modelStates(rank: 0)
        let m = request.microBatches
        func bytes(_ count: Int) -> String { Quantity.format(Double(count), .bytes) }
        session.output(
            "train: \(request.preset.rawValue) (Ψ = \(trainer.parameterCount) parameters) on dp=\(request.dataParallel)"
                + " zero=\(request.zeroStage), \(request.steps) step(s) of \(request.dataParallel) × \(m) micro-batches"
                + (request.isReal ? " (real)" : " (phantom)"))
        session.output(
            "  rank r runs micro-batches r·\(m) … r·\(m)+\(m - 1) of each step; per GPU: parameters "
                + "\(bytes(states.parameterBytes)), gradients \(bytes(states.gradientBytes)), optimizer "
                + "\(bytes(states.optimizerBytes)) (K = \(trainer.config.optimizerBytesPerParameter)), activations "
                + "\(bytes(trainer.activationBytesPerMicroBatch)) per micro-batch")
    }
}
