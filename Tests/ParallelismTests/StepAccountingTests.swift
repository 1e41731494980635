import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// The per-GPU step accounting of the pipeline trainer: every part of `StepTimeBreakdown` against the schedule
/// analyser, the fabric's closed form and hand-computed MFU; the parts add up to the step time exactly.
@Suite(.serialized) struct StepAccountingTests {
    static let kinds: [(PipelineScheduleKind, Int)] = [(.oneFOneB, 4), (.zeroBubbleH1, 4), (.dualPipe, 8)]

    /// Runs the tiny model (one layer per stage) with `kind` on the GPUs `gpuIndices` of a `nodes`-node cluster
    /// (PP × DP with ZeRO-1 over `layout`'s DP groups when `dp` > 1).
    private func run(
        _ kind: PipelineScheduleKind, pp: Int, microBatches: Int, costs: PipelineCosts, nodes: Int = 1,
        gpuIndices: [Int]? = nil, dp: Int = 1, steps: Int = 1
    ) throws -> (report: PipelineRunReport, schedule: PipelineSchedule, trainer: PipelineTrainer) {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: nodes), in: simulation)
        let schedule = try PipelineSchedule.generate(kind, stages: pp, microBatches: microBatches)
        let config = try ModelPreset.tiny.config(layers: schedule.stageCount)
        let groups = try dataGroups(pp: pp, dp: dp, on: cluster)
        let indices = gpuIndices ?? Array(0..<(schedule.deviceCount * dp))
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: tinyTraining(microBatches: microBatches * dp, steps: steps),
            costs: costs, gpus: indices.map { cluster.gpus[$0] }, dataGroups: groups)
        trainer.start()
        let stop = simulation.run()
        guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
        return (try trainer.report(), schedule, trainer)
    }

    private static func expectExactParts(_ step: StepReport, _ label: String) {
        #expect(!step.gpus.isEmpty, "\(label)")
        for gpu in step.gpus {
            #expect(gpu.breakdown.total == step.stepTime, "\(label) \(gpu.gpuName)")
            #expect(gpu.breakdown[.remainder] == .zero, "\(label) \(gpu.gpuName): \(gpu.breakdown)")
            for part in StepTimeBreakdown.Part.allCases {
                #expect(gpu.breakdown[part] >= .zero, "\(label) \(gpu.gpuName) \(part)")
            }
        }
        #expect(step.phases.reduce(SimDuration.zero) { $0 + $1.duration } == step.stepTime, "\(label)")
    }

    @Test(arguments: kinds.indices)
    func partsAddUpToTheStepTimeExactly(_ index: Int) throws {
        let (kind, m) = Self.kinds[index]
        let model = try run(kind, pp: 4, microBatches: m, costs: .model, steps: 2)
        for step in model.report.steps {
            Self.expectExactParts(step.report, "\(kind) model")
            for gpu in step.report.gpus {
                #expect(gpu.breakdown[.compute] > .zero && gpu.breakdown[.optimizer] > .zero)
                // No EP all-to-all inside the compute ops yet: their kernels run back to back.
                #expect(gpu.breakdown[.epCommunication] == .zero, "\(kind) \(gpu.gpuName)")
            }
        }
        let unit = try run(kind, pp: 4, microBatches: m, costs: .unit(PipelineTimingTests.uneven))
        Self.expectExactParts(unit.report.steps[0].report, "\(kind) unit")
    }

    /// Unit costs, free communication: each GPU's bubble is the analyser's idle time of its rank, its compute the
    /// analyser's busy time, and no communication is exposed.
    @Test(arguments: kinds.indices)
    func unitCostBubbleIsTheAnalysersIdleTime(_ index: Int) throws {
        let (kind, m) = Self.kinds[index]
        let durations = PipelineTimingTests.uneven
        let (report, schedule, _) = try run(kind, pp: 4, microBatches: m, costs: .unit(durations))
        let analysed = try schedule.analyze(durations: durations)
        let step = report.steps[0].report
        #expect(step.gpus.count == 4)
        for (rank, gpu) in step.gpus.enumerated() {
            #expect(gpu.breakdown[.bubble] == analysed.idleTime[rank], "\(kind) rank \(rank)")
            #expect(gpu.breakdown[.compute] == analysed.busyTime[rank], "\(kind) rank \(rank)")
            #expect(gpu.breakdown.exposedCommunication == .zero, "\(kind) rank \(rank)")
            #expect(gpu.breakdown[.dpCommunication] == .zero && gpu.breakdown[.optimizer] == .zero)
        }
        #expect(step.meanGPU?[.bubble] == analysed.idleTime.reduce(.zero, +) / 4)
    }

    /// PP=2 across two nodes (gpu0 and gpu8, one IB rail): exposed PP communication is positive and at most one
    /// uncontended transfer per posted receive, with the transfer bounded by the route's latencies plus every
    /// hop serialising the whole BF16 message at the NIC's 50 GB/s (no pipelining of chunks).
    @Test func crossNodeSendsExposePipelineCommunication() throws {
        let (report, schedule, _) = try run(
            .oneFOneB, pp: 2, microBatches: 4, costs: .model, nodes: 2, gpuIndices: [0, 8])
        let step = report.steps[0].report
        Self.expectExactParts(step, "1F1B 2 nodes")
        let bytes = ModelPreset.tiny.sequenceLength * ModelPreset.tiny.config.hiddenSize * 2
        let boundNs = 3_700 + 5 * Double(bytes) / 50e9 * 1e9
        for (rank, gpu) in step.gpus.enumerated() {
            let waits = schedule.devices[rank].filter { if case .receive = $0.kind { true } else { false } }.count
            #expect(waits == 4)
            let exposed = Double(gpu.breakdown[.ppCommunication].nanoseconds)
            #expect(exposed > 0, "rank \(rank)")
            #expect(exposed <= Double(waits) * boundNs, "rank \(rank): \(exposed) ns for \(waits) waits")
            // The rest of each wait is the producer's compute: bubble, far more than the wire's few µs.
            #expect(gpu.breakdown[.bubble] > gpu.breakdown[.ppCommunication], "rank \(rank)")
        }
    }

    /// MFU = model FLOPs / (GPUs × 989 TFLOP/s × step time), the model FLOPs being F + B + W of every op of
    /// every micro-batch; no GPU can beat its compute SMs' share of the peak while it computes.
    @Test func modelFLOPsUtilizationIsTheHandComputation() throws {
        let (report, _, trainer) = try run(.oneFOneB, pp: 2, microBatches: 4, costs: .model)
        let step = report.steps[0].report
        let costModel = try CostModel(
            config: trainer.config, tokens: ModelPreset.tiny.sequenceLength,
            sequenceLength: ModelPreset.tiny.sequenceLength)
        let perMicroBatch = costModel.ops.reduce(0) {
            $0 + $1.forwardFLOPs + $1.backwardInputFLOPs + $1.backwardWeightFLOPs
        }
        let expected = Double(4 * perMicroBatch) / (2 * 989e12 * step.stepTime.seconds)
        let mfu = try #require(step.modelFLOPsUtilization)
        #expect(step.modelFLOPs == Double(4 * perMicroBatch))
        #expect(abs(mfu - expected) <= 1e-12 * expected)
        let meanCompute = try #require(step.meanGPU)[.compute]
        #expect(mfu > 0 && mfu <= meanCompute / step.stepTime * 112 / 132)
    }

    /// PP=2 × DP=2 with ZeRO-1: the reduce-scatter and all-gather leave the compute SMs idle (DP communication),
    /// the AdamW kernel is the optimizer part, and HBM peaks per kind are ZeRO-1's with the schedule's activations.
    @Test func zeroOneCollectivesAreDataParallelCommunication() throws {
        let (report, _, trainer) = try run(.oneFOneB, pp: 2, microBatches: 2, costs: .model, dp: 2)
        let step = report.steps[0].report
        Self.expectExactParts(step, "1F1B pp=2 dp=2")
        #expect(step.gpus.map(\.gpuName) == ["gpu0", "gpu1", "gpu2", "gpu3"])
        let costModel = try CostModel(
            config: trainer.config, tokens: ModelPreset.tiny.sequenceLength,
            sequenceLength: ModelPreset.tiny.sequenceLength)
        for (index, gpu) in step.gpus.enumerated() {
            #expect(gpu.breakdown[.dpCommunication] > .zero, "\(gpu.gpuName)")
            #expect(gpu.breakdown[.optimizer] > .zero, "\(gpu.gpuName)")
            let rank = index / 2
            let count = costModel.stageOps(layers: trainer.stageLayers[rank]).reduce(0) { $0 + $1.parameterCount }
            let shard = CollectivePlan.evenSplit(count, into: 2)[index % 2]
            #expect(gpu.peakBytes(.parameters) == 2 * count && gpu.peakBytes(.gradients) == 2 * count)
            #expect(gpu.peakBytes(.optimizerState) == 12 * shard, "\(gpu.gpuName)")
            #expect(gpu.peakBytes(.activations) == report.peakActivationBytes[index], "\(gpu.gpuName)")
            #expect(gpu.peakBytes(.activations) > 0)
        }
    }
}

/// The mean GPU's parts: each its exact mean rounded down or up, adding up to the step time.
@Suite struct StepTimeBreakdownMeanTests {
    private func breakdown(_ parts: [(StepTimeBreakdown.Part, Int64)]) -> StepTimeBreakdown {
        var result = StepTimeBreakdown()
        for (part, ns) in parts { result[part] = .nanoseconds(ns) }
        return result
    }

    @Test func meanPartsAreRoundedAndAddUp() {
        let gpus = [
            breakdown([(.compute, 3), (.bubble, 7)]), breakdown([(.compute, 4), (.bubble, 6)]),
            breakdown([(.compute, 4), (.bubble, 5), (.ppCommunication, 1)]),
        ]
        let mean = StepTimeBreakdown.mean(of: gpus, total: .nanoseconds(10))
        // Exact means 11/3, 18/3, 1/3: the leftover nanosecond goes to compute's larger fraction.
        #expect(mean[.compute] == .nanoseconds(4) && mean[.bubble] == .nanoseconds(6))
        #expect(mean[.ppCommunication] == .zero && mean[.remainder] == .zero)
        #expect(mean.total == .nanoseconds(10))
    }
}
