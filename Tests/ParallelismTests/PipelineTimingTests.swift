import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// Under unit costs the executed timeline is the analyser's, op for op; broken setups fail loudly.
@Suite(.serialized) struct PipelineTimingTests {
    static let uneven = OpDurations(
        forward: .milliseconds(2), backwardInput: .milliseconds(3), backwardWeight: .milliseconds(1))

    static let cases: [PipelineCase] = [
        PipelineCase(kind: .gpipe, stages: 4, microBatches: 6),
        PipelineCase(kind: .oneFOneB, stages: 4, microBatches: 6),
        PipelineCase(kind: .zeroBubbleH1, stages: 4, microBatches: 6),
        PipelineCase(kind: .dualPipe, stages: 4, microBatches: 8),
        PipelineCase(kind: .dualPipeV, stages: 4, microBatches: 4), PipelineCase(kind: nil, stages: 2, microBatches: 4),
    ]

    /// Every schedule on 8 GPUs at the issue's m=20 (interleaved: m a multiple of PP, so 16 and 24; DualPipe-V:
    /// 16 stages, two per GPU). Phantom runs: the timeline is the real run's (PhantomPipelineTests).
    static let eightGPUCases: [PipelineCase] =
        [PipelineScheduleKind.gpipe, .oneFOneB, .zeroBubbleH1, .dualPipe].map {
            PipelineCase(kind: $0, stages: 8, microBatches: 20)
        } + [
            PipelineCase(kind: .dualPipeV, stages: 16, microBatches: 20),
            PipelineCase(kind: nil, stages: 8, microBatches: 16), PipelineCase(kind: nil, stages: 8, microBatches: 24),
        ]

    @Test(arguments: cases, [unitDurations, uneven])
    func executedTimelineEqualsTheAnalyser(_ run: PipelineCase, durations: OpDurations) throws {
        try expectAnalysedTimeline(run, durations: durations, phantom: false)
    }

    @Test(arguments: eightGPUCases, [unitDurations, uneven])
    func executedTimelineEqualsTheAnalyserOnEightGPUs(_ run: PipelineCase, durations: OpDurations) throws {
        #expect(try run.schedule().deviceCount == 8)
        try expectAnalysedTimeline(run, durations: durations, phantom: true)
    }

    private func expectAnalysedTimeline(_ run: PipelineCase, durations: OpDurations, phantom: Bool) throws {
        let schedule = try run.schedule()
        let config = try ModelPreset.tiny.config(layers: schedule.stageCount)
        let executed = try runPipeline(
            schedule, config: config, steps: 1, costs: .unit(durations), phantom: phantom
        ).report.steps[0]
        let analysed = try schedule.analyze(durations: durations)
        #expect(executed.timeline.makespan == analysed.makespan, "\(run)")
        #expect(executed.timeline.idleTime == analysed.idleTime, "\(run)")
        #expect(executed.timeline.spans == analysed.spans, "\(run)")
        #expect(executed.timeline.spans.map { $0.map(\.op) } == schedule.devices.map { $0.filter(\.isCompute) })
        #expect(executed.report.stepTime == analysed.makespan)
    }

    /// The DualPipe README's PP=8, m=20 example: makespan 66 and 6 idle units on every device.
    @Test func dualPipeEightByTwentyTakesSixtySixUnits() throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: 8, microBatches: 20)
        let config = try ModelPreset.tiny.config(layers: 8)
        let timeline = try runPipeline(schedule, config: config, steps: 1, costs: .unit(unitDurations)).report
            .steps[0].timeline
        #expect(timeline.makespan == .milliseconds(66))
        #expect(timeline.idleTime == Array(repeating: .milliseconds(6), count: 8))
    }

    /// Activations are held from F to W: the measured peak is the analyser's peak count × bytes per micro-batch.
    @Test(arguments: [
        PipelineCase(kind: .oneFOneB, stages: 4, microBatches: 8),
        PipelineCase(kind: .gpipe, stages: 4, microBatches: 6),
        PipelineCase(kind: .zeroBubbleH1, stages: 4, microBatches: 8),
        PipelineCase(kind: .dualPipe, stages: 4, microBatches: 8),
    ])
    func peakActivationBytesFollowTheAnalyser(_ run: PipelineCase) throws {
        let schedule = try run.schedule()
        let config = try ModelPreset.tiny.config(layers: 8)
        let report = try runPipeline(schedule, config: config, steps: 1, costs: .unit(unitDurations)).report
        let counts = try schedule.analyze(durations: unitDurations).peakActivations
        var compared = 0
        for rank in 0..<schedule.deviceCount {
            let perMicroBatch = try #require(report.activationBytesPerMicroBatch[rank].first)
            #expect(perMicroBatch > 0)
            // DualPipe's ends hold the embedding stage with the head stage, whose micro-batches differ in size.
            guard report.activationBytesPerMicroBatch[rank].allSatisfy({ $0 == perMicroBatch }) else { continue }
            #expect(report.peakActivationBytes[rank] == counts[rank] * perMicroBatch, "\(run) rank \(rank)")
            compared += 1
        }
        #expect(compared >= 2)
    }

    @Test func missingSendIsADeadlockNamingTheWaitingWorker() throws {
        var schedule = try PipelineSchedule.generate(.oneFOneB, stages: 4, microBatches: 4)
        let send = try #require(schedule.devices[1].firstIndex { if case .send = $0.kind { true } else { false } })
        schedule.devices[1].remove(at: send)
        #expect(throws: ScheduleValidationError.self) { try schedule.validate() }
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: ModelPreset.tiny.config, training: tinyTraining(microBatches: 4, steps: 1),
            costs: .unit(unitDurations), gpus: Array(cluster.gpus.prefix(4)), validates: false)
        trainer.start()
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected a deadlock")
            return
        }
        let waiter = try #require(report.waiters.first { $0.process == "stage worker 2 (gpu2)" })
        #expect(waiter.waitsOn.contains("activation of mb 0, stage 1"), "\(waiter.waitsOn)")
    }

    /// DualPipe's `WeightGradientStore` must be empty at the end of the step: a dropped W is caught.
    @Test func leftoverWeightGradientsFailTheStep() throws {
        var schedule = try PipelineSchedule.generate(.zeroBubbleH1, stages: 2, microBatches: 2)
        let last = try #require(
            schedule.devices[1].lastIndex { if case .backwardWeight = $0.kind { true } else { false } })
        schedule.devices[1].remove(at: last)
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: ModelPreset.tiny.config(layers: 2),
            training: tinyTraining(microBatches: 2, steps: 1), costs: .unit(unitDurations),
            gpus: Array(cluster.gpus.prefix(2)), validates: false)
        trainer.start()
        guard case .processFailed(let process, let error) = simulation.run() else {
            Issue.record("expected the step to fail")
            return
        }
        #expect(process == "stage worker 1 (gpu1)")
        #expect(error.contains("ends step 0 with 1 W task(s) left, first mb 1, stage 1"), "\(error)")
    }

    @Test func invalidScheduleIsRefusedBeforeAnythingRuns() throws {
        var schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2)
        schedule.devices[0].removeLast()
        let simulation = Simulation(seed: 0)
        let cluster = try Cluster.singleNode(in: simulation)
        #expect(throws: ScheduleValidationError.self) {
            try PipelineTrainer(
                schedule: schedule, config: ModelPreset.tiny.config, training: tinyTraining(microBatches: 2, steps: 1),
                costs: .unit(unitDurations), gpus: Array(cluster.gpus.prefix(2)))
        }
        #expect(simulation.liveProcessCount == 0)
    }

    @Test func badSizesAreRefusedNamingTheValue() throws {
        let simulation = Simulation(seed: 0)
        let cluster = try Cluster.singleNode(in: simulation)
        let schedule = try PipelineSchedule.generate(.oneFOneB, stages: 4, microBatches: 4)
        let training = tinyTraining(microBatches: 4, steps: 1)
        #expect(throws: PipelineError.invalidSetup("1F1B runs on 4 GPUs, 3 given")) {
            try PipelineTrainer(
                schedule: schedule, config: ModelPreset.tiny.config, training: training, costs: .model,
                gpus: Array(cluster.gpus.prefix(3)))
        }
        #expect(throws: PipelineError.invalidSetup("layers=3 is fewer than the 4 stages of 1F1B")) {
            try PipelineTrainer(
                schedule: schedule, config: ModelPreset.tiny.config(layers: 3), training: training, costs: .model,
                gpus: Array(cluster.gpus.prefix(4)))
        }
        #expect(throws: PipelineError.invalidSetup("1F1B has m=4 micro-batches, the training step 5")) {
            try PipelineTrainer(
                schedule: schedule, config: ModelPreset.tiny.config, training: tinyTraining(microBatches: 5, steps: 1),
                costs: .model, gpus: Array(cluster.gpus.prefix(4)))
        }
    }

    /// Model costs: an F lasts the sum of its stage's cost-model kernels on the compute SMs (one per op with
    /// forward FLOPs, reading the op's parameters and activations once).
    @Test func modelCostForwardIsTheCostModelsKernels() throws {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 2)
        let config = try ModelPreset.tiny.config(layers: 4)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: tinyTraining(microBatches: 2, steps: 1), costs: .model,
            gpus: Array(cluster.gpus.prefix(2)))
        trainer.start()
        #expect(simulation.run() == .finished)
        let costs = try CostModel(
            config: config, tokens: ModelPreset.tiny.sequenceLength, sequenceLength: ModelPreset.tiny.sequenceLength)
        let compute = cluster.gpus[1].compute
        let expected = costs.stageOps(layers: 2..<4).filter { $0.forwardFLOPs > 0 }.reduce(SimDuration.zero) {
            total, op in
            total
                + simulation.inspect(compute) {
                    $0.duration(
                        of: Kernel(name: op.name, flops: Double(op.forwardFLOPs), hbmBytes: op.forwardMemoryBytes))
                }
        }
        let span = try #require(try trainer.report().steps[0].timeline.spans[1].first)
        #expect(span.end - span.start == expected)
    }

    /// Model costs: activations and gradients cross NVLink as BF16, tokens × hidden × 2 bytes each.
    @Test func activationsTravelAsBF16() throws {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 2)
        let config = try ModelPreset.tiny.config(layers: 2)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: tinyTraining(microBatches: 2, steps: 1), costs: .model,
            gpus: Array(cluster.gpus.prefix(2)))
        trainer.start()
        #expect(simulation.run() == .finished)
        let tokens = ModelPreset.tiny.sequenceLength
        let messageBytes = tokens * config.hiddenSize * 2
        for gpu in cluster.gpus.prefix(2) {
            let bytes = simulation.inspect(gpu.nvlinkOut) { $0.statistics.bytes }
            #expect(bytes == 2 * messageBytes, "\(gpu.name)")
        }
        let report = try trainer.report()
        #expect(report.steps[0].timeline.makespan > .zero)
        #expect(report.steps[0].report.stepTime >= report.steps[0].timeline.makespan)
    }
}

/// Cost-only runs move shapes through the same op lists: the same timeline as a real run, no parameters.
@Suite struct PhantomPipelineTests {
    @Test func phantomRunTimesLikeTheRealRun() throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: 4, microBatches: 8)
        let config = try ModelPreset.tiny.config(layers: 4)
        func run(phantom: Bool) throws -> PipelineRunReport {
            let simulation = Simulation(seed: 0)
            simulation.executor.trapsOnForeignEnqueue = true
            let cluster = try Cluster.singleNode(in: simulation)
            let trainer = try PipelineTrainer(
                schedule: schedule, config: config, training: tinyTraining(microBatches: 8, steps: 2), costs: .model,
                gpus: Array(cluster.gpus.prefix(4)), phantom: phantom)
            trainer.start()
            #expect(simulation.run() == .finished)
            return try trainer.report()
        }
        let real = try run(phantom: false)
        let phantom = try run(phantom: true)
        #expect(phantom.steps.map(\.report.stepTime) == real.steps.map(\.report.stepTime))
        #expect(phantom.steps.map(\.timeline.spans) == real.steps.map(\.timeline.spans))
        #expect(phantom.steps.allSatisfy { $0.report.loss == nil })
        #expect(phantom.parameters.entries.isEmpty)
        #expect(phantom.peakActivationBytes == real.peakActivationBytes)
    }
}

/// Each rank charges the model states of the stage copies it holds: DualPipe's ranks hold two stages.
@Suite struct PipelineParameterMemoryTests {
    @Test(arguments: [PipelineScheduleKind.oneFOneB, .dualPipe, .dualPipeV])
    func parameterBytesFollowTheStageCopies(kind: PipelineScheduleKind) throws {
        let schedule = try PipelineSchedule.generate(kind, stages: 4, microBatches: 8)
        let config = try ModelPreset.tiny.config(layers: 4)
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: tinyTraining(microBatches: 8, steps: 1),
            costs: .unit(unitDurations), gpus: Array(cluster.gpus.prefix(schedule.deviceCount)), phantom: true)
        trainer.start()
        #expect(simulation.run() == .finished)
        let stageCounts = try ModelStage.stages(of: config, count: 4).map { stage in
            stage.parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) }
        }
        for rank in 0..<schedule.deviceCount {
            let stages = schedule.stageDevices.flatMap { row in row.indices.filter { row[$0] == rank } }
            let expected = stages.reduce(0) { $0 + stageCounts[$1] }
            #expect(stages.count == (kind == .oneFOneB ? 1 : 2))
            let hbm = simulation.inspect(cluster.gpus[rank]) { $0.hbm }
            #expect(hbm.peakBytes(.parameters) == 2 * expected, "rank \(rank)")
            #expect(hbm.peakBytes(.optimizerState) == 12 * expected, "rank \(rank)")
            #expect(hbm.currentBytes(.activations) == 0, "rank \(rank): activations freed by W")
            // The finished run released its model states, as the data-parallel trainer does.
            #expect(hbm.usedBytes == 0, "rank \(rank)")
        }
    }
}
