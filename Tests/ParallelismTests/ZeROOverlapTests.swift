import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Tensors
import Testing

/// `zero-overlap`: each stage copy's ZeRO-1 (reduce-scatter, AdamW on the shard, all-gather) starts once the
/// copy's gradients are final, under the rest of the schedule. The numbers are the ones after the schedule; the
/// step is the closed form of one serial ZeRO lane per GPU; the step report stays exact.
@Suite(.serialized) struct ZeROOverlapTests {
    static let kinds: [(PipelineScheduleKind, Int)] = [(.oneFOneB, 4), (.zeroBubbleH1, 4), (.dualPipe, 8)]

    /// The tiny model (one layer per stage) on PP × DP GPUs of one node, ZeRO-1 over the DP groups.
    private func run(
        _ kind: PipelineScheduleKind, pp: Int, dp: Int, microBatches: Int, costs: PipelineCosts, overlap: Bool,
        phantom: Bool = false, steps: Int = 1
    ) throws -> (report: PipelineRunReport, trainer: PipelineTrainer, traceHash: UInt64) {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 1), in: simulation)
        let schedule = try PipelineSchedule.generate(kind, stages: pp, microBatches: microBatches)
        let config = try ModelPreset.tiny.config(layers: schedule.stageCount)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: tinyTraining(microBatches: microBatches * dp, steps: steps),
            costs: costs, gpus: Array(cluster.gpus.prefix(schedule.deviceCount * dp)), phantom: phantom,
            dataGroups: try dataGroups(pp: pp, dp: dp, on: cluster), overlapsZeRO: overlap)
        trainer.start()
        let stop = simulation.run()
        guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
        return (try trainer.report(), trainer, simulation.trace.hash)
    }

    /// PP=2 × DP=2, real values, two steps: the parameters and losses are bit-identical to ZeRO-1 after the
    /// schedule, and equal the single-device reference.
    @Test(arguments: kinds.indices)
    func overlapKeepsTheNumbers(_ index: Int) throws {
        let (kind, _) = Self.kinds[index]
        let m = kind == .dualPipe ? 4 : 2
        let on = try run(kind, pp: 2, dp: 2, microBatches: m, costs: .model, overlap: true, steps: 2)
        let off = try run(kind, pp: 2, dp: 2, microBatches: m, costs: .model, overlap: false, steps: 2)
        #expect(on.trainer.overlapsZeRO && !off.trainer.overlapsZeRO)
        #expect(on.report.parameters == off.report.parameters, "\(kind)")
        #expect(on.report.steps.map(\.report.loss) == off.report.steps.map(\.report.loss), "\(kind)")
        var reference = try ReferenceTrainer(config: on.trainer.config, training: on.trainer.training)
        _ = try reference.train()
        let difference = try on.report.maxRelativeDifference(to: reference.parameters)
        #expect(difference <= 1e-5, "\(kind): \(difference)")
        #expect(on.report.copiesAgree, "\(kind)")
        #expect(on.report.steps.last?.report.zeroOverlap == true && off.report.steps.last?.report.zeroOverlap == false)
    }

    /// PP=2 × EP=4 × DP_replica=2 on two nodes (the tiny MoE model, real): experts over the expert-DP group,
    /// the rest over DP_total, both overlapped; bit-identical to after the schedule, equal to the reference.
    @Test(arguments: kinds.indices)
    func overlapKeepsTheNumbersWithExpertParallelism(_ index: Int) throws {
        let (kind, _) = Self.kinds[index]
        let m = kind == .dualPipe ? 4 : 2
        let on = try DistributedTrainerTests.run(kind, ep: 4, replicas: 2, microBatches: m, zeroOverlap: true)
        let off = try DistributedTrainerTests.run(kind, ep: 4, replicas: 2, microBatches: m, zeroOverlap: false)
        #expect(on.report.parameters == off.report.parameters, "\(kind)")
        var reference = try ReferenceTrainer(config: on.config, training: on.training)
        _ = try reference.train()
        let difference = try on.report.maxRelativeDifference(to: reference.parameters)
        #expect(difference <= 1e-5, "\(kind): \(difference)")
        #expect(on.report.copiesAgree, "\(kind)")
        // A rerun is bit-identical, trace included.
        let again = try DistributedTrainerTests.run(kind, ep: 4, replicas: 2, microBatches: m, zeroOverlap: true)
        #expect(again.traceHash == on.traceHash && again.report.parameters == on.report.parameters, "\(kind)")
    }

    /// Unit costs (f = b = w = 1 ms, instant pipeline sends, free AdamW), PP=4 × DP=2: ZeRO-1 of copy c alone
    /// takes Z_c (its reduce-scatter and all-gather on the fabric, measured alone on a fresh node). Each GPU's
    /// lane takes its copies in the order of their last W, so with R_c the end of copy c's last W (DualPipe:
    /// the later of it and its mirror copy's) and S_r the end of rank r's last op:
    ///   on:  step = max_r max(S_r, L_r),  L_r = fold over the lane of  L ← max(L, R_c) + Z_c  from 0;
    ///   off: step = max_r (E_r + Σ_c Z_c),  E_r = S_r (DualPipe: max(S_r, S_{PP−1−r}), the mirror exchange).
    /// The overlapped step is never longer; it is shorter when a GPU holds a copy that finishes before its last op
    /// (DualPipe's two copies).
    @Test(arguments: kinds.indices)
    func unitCostStepIsTheLaneClosedForm(_ index: Int) throws {
        let (kind, m) = Self.kinds[index]
        let pp = 4
        let on = try run(
            kind, pp: pp, dp: 2, microBatches: m, costs: .unit(unitDurations), overlap: true, phantom: true)
        let off = try run(
            kind, pp: pp, dp: 2, microBatches: m, costs: .unit(unitDurations), overlap: false, phantom: true)
        let schedule = on.trainer.schedule
        let analysis = try schedule.analyze(durations: unitDurations)
        var lastWeight: [PipelineChunk: SimInstant] = [:]  // lookup only, never iterated
        for spans in analysis.spans {
            for span in spans {
                guard let chunk = Self.weightChunk(of: span.op.kind) else { continue }
                let key = PipelineChunk(stage: chunk.stage, microBatch: 0, direction: chunk.direction)
                lastWeight[key] = max(lastWeight[key] ?? .start, span.end)
            }
        }
        let costModel = try CostModel(
            config: on.trainer.config, tokens: ModelPreset.tiny.sequenceLength,
            sequenceLength: ModelPreset.tiny.sequenceLength)
        let twoWay = schedule.directions.count == 2
        var expectedOn = SimDuration.zero
        var expectedOff = SimDuration.zero
        for rank in 0..<schedule.deviceCount {
            let copies = schedule.directions.flatMap { direction in
                (0..<schedule.stageCount).filter { schedule.stageDevices[direction.rawValue][$0] == rank }.map {
                    PipelineChunk(stage: $0, microBatch: 0, direction: direction)
                }
            }.sorted { (lastWeight[$0] ?? .start) < (lastWeight[$1] ?? .start) }
            let zero = try copies.map { copy in
                let count = costModel.stageOps(layers: on.trainer.stageLayers[copy.stage]).reduce(0) {
                    $0 + $1.parameterCount
                }
                return try Self.zeroTime(elements: count, pipelineRank: rank, pp: pp, dp: 2)
            }
            var lane = SimInstant.start
            for (copy, z) in zip(copies, zero) {
                var ready = lastWeight[copy] ?? .start
                if twoWay {
                    let mirror = PipelineChunk(
                        stage: copy.stage, microBatch: 0, direction: copy.direction == .down ? .up : .down)
                    ready = max(ready, lastWeight[mirror] ?? .start)
                }
                lane = max(lane, ready) + z
            }
            let end = analysis.spans[rank].map(\.end).max() ?? .start
            expectedOn = max(expectedOn, max(end, lane) - .start)
            var scheduleEnd = end
            if twoWay { scheduleEnd = max(end, analysis.spans[pp - 1 - rank].map(\.end).max() ?? .start) }
            expectedOff = max(expectedOff, scheduleEnd - .start + zero.reduce(.zero, +))
        }
        let stepOn = try #require(on.report.steps.first?.report)
        let stepOff = try #require(off.report.steps.first?.report)
        #expect(stepOn.stepTime == expectedOn, "\(kind) on")
        #expect(stepOff.stepTime == expectedOff, "\(kind) off")
        #expect(stepOn.stepTime <= stepOff.stepTime, "\(kind)")
        // 1F1B and ZB1P hold one copy per GPU whose last W is the GPU's last op: nothing to hide under. DualPipe's
        // first-finished copy hides under the other copy's remaining ops.
        #expect((stepOn.stepTime < stepOff.stepTime) == twoWay, "\(kind)")
        // Only what sticks out past the schedule is exposed DP time; the parts still add up.
        for gpu in stepOn.gpus {
            #expect(gpu.breakdown.total == stepOn.stepTime && gpu.breakdown[.remainder] == .zero, "\(gpu.gpuName)")
            #expect(gpu.schedulePhases.total == stepOn.stepTime, "\(gpu.gpuName)")
            #expect(gpu.breakdown[.compute] == analysis.busyTime[0], "\(gpu.gpuName)")
        }
        let hiddenDP =
            try #require(stepOff.meanGPU)[.dpCommunication] - (try #require(stepOn.meanGPU))[.dpCommunication]
        #expect((hiddenDP > .zero) == twoWay && hiddenDP >= .zero, "\(kind)")
        // A rerun gives the same trace.
        let again = try run(
            kind, pp: pp, dp: 2, microBatches: m, costs: .unit(unitDurations), overlap: true, phantom: true)
        #expect(again.traceHash == on.traceHash, "\(kind)")
    }

    /// Model costs, DualPipe PP=2 × DP=2 (phantom): the parts and the schedule phases add up to the step on every
    /// GPU, the optimizer part is the same AdamW time as after the schedule (moved out of compute where the
    /// kernels ran among the ops), and less DP time is exposed.
    @Test func modelCostAccountingStaysExact() throws {
        let on = try run(.dualPipe, pp: 2, dp: 2, microBatches: 4, costs: .model, overlap: true, phantom: true)
        let off = try run(.dualPipe, pp: 2, dp: 2, microBatches: 4, costs: .model, overlap: false, phantom: true)
        let stepOn = try #require(on.report.steps.first?.report)
        let stepOff = try #require(off.report.steps.first?.report)
        for (gpu, reference) in zip(stepOn.gpus, stepOff.gpus) {
            #expect(gpu.breakdown.total == stepOn.stepTime && gpu.breakdown[.remainder] == .zero, "\(gpu.gpuName)")
            #expect(gpu.schedulePhases.total == stepOn.stepTime, "\(gpu.gpuName)")
            for part in StepTimeBreakdown.Part.allCases { #expect(gpu.breakdown[part] >= .zero) }
            #expect(gpu.breakdown[.optimizer] == reference.breakdown[.optimizer], "\(gpu.gpuName)")
            #expect(gpu.breakdown[.optimizer] > .zero)
            #expect(gpu.breakdown[.dpCommunication] < reference.breakdown[.dpCommunication], "\(gpu.gpuName)")
        }
        #expect(stepOn.stepTime < stepOff.stepTime)
    }

    /// The chunk whose weight gradients `kind` computes, if any.
    static func weightChunk(of kind: PipelineOp.Kind) -> PipelineChunk? {
        switch kind {
        case .backwardWeight(let chunk), .backwardFull(let chunk): chunk
        case .forwardBackward(_, let backward): backward
        default: nil
        }
    }

    /// ZeRO-1's collectives of one copy of `elements` BF16 values over pipeline rank `pipelineRank`'s DP group,
    /// alone on a fresh node: the reduce-scatter, then the all-gather of the shards (AdamW is free under unit
    /// costs).
    static func zeroTime(elements: Int, pipelineRank: Int, pp: Int, dp: Int) throws -> SimDuration {
        let simulation = Simulation(seed: 0)
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 1), in: simulation)
        let group = try dataGroups(pp: pp, dp: dp, on: cluster)[pipelineRank]
        let counts = CollectivePlan.evenSplit(elements, into: dp)
        for rank in 0..<dp {
            _ = simulation.spawn(name: "rank \(rank)") {
                let runner = CollectiveRunner(communicator: group, tagBase: 1 << 20)
                _ = try await runner.reduceScatter(
                    try Tensor(phantom: [elements], dtype: .bf16), rank: rank, blockCounts: counts)
                let gather = CollectiveRunner(communicator: group, tagBase: (1 << 20) + CollectiveRunner.tagStride)
                _ = try await gather.allGather(
                    try Tensor(phantom: [counts[rank]], dtype: .bf16), rank: rank, elementCounts: counts)
            }
        }
        guard simulation.run() == .finished else { throw PipelineTestFailure.stopped(.finished) }
        return simulation.now - .start
    }
}
