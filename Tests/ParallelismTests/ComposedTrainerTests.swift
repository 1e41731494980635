import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// PP × DP with ZeRO-1 (issue 14's composition without EP): every pipeline group runs the schedule on its own
/// micro-batches, each pipeline rank's DP group reduce-scatters, steps AdamW on its shard and all-gathers.
@Suite(.serialized) struct ComposedTrainerTests {
    /// Trains the tiny model (one layer per stage) on the layout's GPUs of a `nodes`-node cluster.
    private func run(
        _ kind: PipelineScheduleKind, pp: Int, dp: Int, microBatches: Int, nodes: Int, steps: Int = 2
    ) throws -> (report: PipelineRunReport, config: MoEConfig, training: TrainingConfig, peaks: [[Int]]) {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: nodes), in: simulation)
        let layout = try ParallelLayout(
            pipelineStages: pp, expertParallel: 1, dataParallelReplicas: dp, gpuCount: pp * dp,
            gpusPerNode: cluster.spec.gpusPerNode)
        let schedule = try PipelineSchedule.generate(kind, stages: pp, microBatches: microBatches)
        let config = try ModelPreset.tiny.config(layers: schedule.stageCount)
        let training = tinyTraining(microBatches: microBatches * dp, steps: steps)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: training, costs: .model,
            gpus: Array(cluster.gpus.prefix(layout.gpuCount)),
            dataGroups: try ParallelLayout.communicators(layout.dataGroups, on: cluster))
        trainer.start()
        let stop = simulation.run()
        guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
        let peaks = cluster.gpus.prefix(layout.gpuCount).map { gpu in
            simulation.inspect(gpu) { hbm in
                [MemoryKind.parameters, .gradients, .optimizerState].map { hbm.hbm.peakBytes($0) }
            }
        }
        return (try trainer.report(), config, training, peaks)
    }

    static let cases: [(PipelineScheduleKind, Int)] = [(.oneFOneB, 2), (.zeroBubbleH1, 2), (.dualPipe, 4)]

    /// 2 nodes × 8 GPUs, PP=2 × DP=8: losses and parameters equal the reference on the same 8·m micro-batches.
    @Test(arguments: cases.indices)
    func twoNodesEqualTheReference(_ index: Int) throws {
        let (kind, m) = Self.cases[index]
        let (report, config, training, _) = try run(kind, pp: 2, dp: 8, microBatches: m, nodes: 2)
        var reference = try ReferenceTrainer(config: config, training: training)
        let losses = try reference.train()
        for (mine, theirs) in zip(report.steps.map(\.report.loss), losses) {
            let loss = try #require(mine)
            #expect(abs(Double(loss - theirs)) <= 1e-5 * abs(Double(theirs)), "\(kind)")
        }
        let difference = try report.maxRelativeDifference(to: reference.parameters)
        #expect(difference <= 1e-5, "\(kind): \(difference)")
        // Every DP copy (and DualPipe's mirrored copies) ends bit-identical.
        #expect(report.copiesAgree, "\(kind)")
    }

    @Test func rerunsAreBitIdenticalAndZeROOneShardsTheOptimizer() throws {
        let first = try run(.dualPipe, pp: 2, dp: 2, microBatches: 4, nodes: 1)
        let second = try run(.dualPipe, pp: 2, dp: 2, microBatches: 4, nodes: 1)
        #expect(first.report.parameters == second.report.parameters)
        #expect(first.report.steps.map(\.report.loss) == second.report.steps.map(\.report.loss))
        #expect(first.report.steps.map(\.report.stepTime) == second.report.steps.map(\.report.stepTime))
        // DualPipe: every rank holds both stages (the whole 2-layer model); ZeRO-1 keeps 12 bytes of AdamW
        // state for half of each copy.
        let costModel = try CostModel(
            config: first.config, tokens: first.training.sequenceLength, sequenceLength: first.training.sequenceLength)
        let counts = try ModelStage.layerRanges(layers: 2, stages: 2).map { layers in
            costModel.stageOps(layers: layers).reduce(0) { $0 + $1.parameterCount }
        }
        #expect(counts.reduce(0, +) == first.report.parameters.elementCount)
        // ZeRO-1 with DP = 2 and DualPipe's two copies: BF16 parameters and gradients of both copies in full,
        // AdamW state (12 bytes) for this rank's shard of each copy.
        let total = counts.reduce(0, +)
        for rank in 0..<4 {
            let d = rank % 2
            let shards = counts.reduce(0) { $0 + CollectivePlan.evenSplit($1, into: 2)[d] }
            #expect(first.peaks[rank] == [2 * total, 2 * total, 12 * shards], "gpu\(rank): \(first.peaks[rank])")
        }
    }
}
