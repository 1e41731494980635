import MoEModel
import Parallelism
import SimCore
import Testing

/// Every schedule trains the tiny model like the reference trainer on the same micro-batches.
@Suite(.serialized) struct PipelineNumericsTests {
    static let cases: [PipelineCase] =
        [PipelineScheduleKind.gpipe, .oneFOneB, .zeroBubbleH1].flatMap { kind in
            [2, 4, 8].map { PipelineCase(kind: kind, stages: $0, microBatches: $0) }
        }
        + [2, 4, 8].map { PipelineCase(kind: .dualPipe, stages: $0, microBatches: 2 * $0) }
        + [2, 4, 8].map { PipelineCase(kind: .dualPipeV, stages: $0, microBatches: $0) }
        + [2, 4].map { PipelineCase(kind: nil, stages: $0, microBatches: 2 * $0) }

    /// Two steps (the second step's loss depends on the first update); the model has one layer per stage.
    @Test(arguments: cases)
    func lossesAndParametersEqualTheReference(_ run: PipelineCase) throws {
        try expectReferenceEquality(run, steps: 2)
    }

    @Test(arguments: [
        PipelineCase(kind: .oneFOneB, stages: 4, microBatches: 4),
        PipelineCase(kind: .dualPipe, stages: 4, microBatches: 8),
    ])
    func oneStepEqualsTheReference(_ run: PipelineCase) throws {
        try expectReferenceEquality(run, steps: 1)
    }

    private func expectReferenceEquality(_ run: PipelineCase, steps: Int) throws {
        let schedule = try run.schedule()
        let config = try ModelPreset.tiny.config(layers: schedule.stageCount)
        let (report, _) = try runPipeline(schedule, config: config, steps: steps, costs: .unit(unitDurations))
        var reference = try ReferenceTrainer(
            config: config, training: tinyTraining(microBatches: schedule.microBatchCount, steps: steps))
        let losses = try reference.train()
        let pipelineLosses = report.steps.map(\.report.loss)
        #expect(pipelineLosses.count == steps)
        for (mine, theirs) in zip(pipelineLosses, losses) {
            let loss = try #require(mine)
            #expect(abs(Double(loss - theirs)) <= 1e-6 * abs(Double(theirs)), "\(run)")
        }
        let difference = try report.maxRelativeDifference(to: reference.parameters)
        #expect(difference <= 1e-6, "\(run): \(difference)")
        #expect(report.copiesAgree)
        if schedule.directions.count == 1 {
            // One copy per stage and W in micro-batch order: the reference's sums, bit for bit.
            #expect(difference == 0, "\(run)")
            #expect(pipelineLosses == losses.map { Optional($0) })
        }
    }

    /// DualPipe's two copies of a stage add their gradients as down + up on both ranks, so they stay equal.
    @Test func dualPipeMirroredCopiesStayIdenticalAndReruns() throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: 4, microBatches: 8)
        let first = try runPipeline(schedule, steps: 2, costs: .unit(unitDurations)).report
        let second = try runPipeline(schedule, steps: 2, costs: .unit(unitDurations)).report
        #expect(first.copiesAgree)
        #expect(first.parameters == second.parameters)
        #expect(first.steps.map(\.report.loss) == second.steps.map(\.report.loss))
    }

    @Test func modelCostsRunTheSameNumerics() throws {
        let schedule = try PipelineSchedule.generate(.oneFOneB, stages: 4, microBatches: 6)
        let unit = try runPipeline(schedule, steps: 1, costs: .unit(unitDurations)).report
        let model = try runPipeline(schedule, steps: 1, costs: .model).report
        #expect(unit.parameters == model.parameters)
        #expect(model.steps[0].report.stepTime > .zero)
    }
}
