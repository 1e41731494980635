import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// The pre-flight HBM plan of a composed step (`StepMemoryPlan`): exactly what the workers charge, and a refusal
/// that names the fullest GPU.
@Suite(.serialized) struct StepMemoryPlanTests {
    /// A PP=2 × EP=4 × DP_replica=2 trainer of the tiny model on 2 nodes (phantom: the same HBM charges), not
    /// started.
    static func trainer(
        _ kind: PipelineScheduleKind, microBatches: Int, steps: Int = 1, activations: ActivationPolicy = .full,
        zeroOverlap: Bool = false
    ) throws -> (DistributedTrainer, Cluster, Simulation) {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 2), in: simulation)
        let layout = try ParallelLayout(
            pipelineStages: 2, expertParallel: 4, dataParallelReplicas: 2, gpuCount: 16, gpusPerNode: 8,
            expertCount: ModelPreset.tiny.config.routedExpertCount)
        let schedule = try PipelineSchedule.generate(kind, stages: 2, microBatches: microBatches)
        var options = ExpertParallelLayer.Options()
        options.fp8Dispatch = false  // the tiny model's hidden size is no multiple of 128
        let trainer = try DistributedTrainer(
            layout: layout, cluster: cluster, schedule: schedule, config: try ModelPreset.tiny.config(layers: 4),
            training: tinyTraining(microBatches: microBatches * 8, steps: steps), phantom: true, options: options,
            activations: activations, overlapsZeRO: zeroOverlap)
        return (trainer, cluster, simulation)
    }

    @Test(
        "the plan is every GPU's HBM peak per kind after the run, under both activation policies",
        arguments: [
            (PipelineScheduleKind.oneFOneB, 4, ActivationPolicy.full), (.zeroBubbleH1, 4, .full), (.dualPipe, 4, .full),
            (.gpipe, 3, .full), (.dualPipe, 4, .deepseek), (.oneFOneB, 4, .deepseek),
        ])
    func planEqualsThePeaks(_ kind: PipelineScheduleKind, microBatches: Int, activations: ActivationPolicy) throws {
        try Self.expectPlanEqualsThePeaks(
            kind, microBatches: microBatches, activations: activations, zeroOverlap: false)
    }

    /// `zero-overlap` runs ZeRO-1 under the schedule; the model states stay charged all step, so the plan holds.
    @Test(
        "the plan is every GPU's HBM peak with ZeRO-1 overlapped",
        arguments: [(PipelineScheduleKind.oneFOneB, 4), (.dualPipe, 4)])
    func planEqualsThePeaksWithZeROOverlap(_ kind: PipelineScheduleKind, microBatches: Int) throws {
        try Self.expectPlanEqualsThePeaks(kind, microBatches: microBatches, activations: .deepseek, zeroOverlap: true)
    }

    private static func expectPlanEqualsThePeaks(
        _ kind: PipelineScheduleKind, microBatches: Int, activations: ActivationPolicy, zeroOverlap: Bool
    ) throws {
        let (trainer, cluster, simulation) = try Self.trainer(
            kind, microBatches: microBatches, steps: 2, activations: activations, zeroOverlap: zeroOverlap)
        let plan = trainer.pipeline.memoryPlan()
        // Each copy's bytes per micro-batch are the cost model's under the policy (the tiny model: 4 layers over
        // 2 stages, one sequence of 8 tokens per micro-batch).
        let costs = try CostModel(
            config: try ModelPreset.tiny.config(layers: 4), tokens: 8, sequenceLength: 8, activations: activations)
        let stageBytes = try ModelStage.layerRanges(layers: 4, stages: 2).map { costs.stageActivationBytes(layers: $0) }
        for gpu in plan.gpus {
            #expect(gpu.activations == activations)
            #expect(gpu.activationBytesPerMicroBatch == gpu.stages.map { stageBytes[$0] }, "\(gpu.gpuName)")
        }
        #expect(plan.gpus.map(\.gpuName) == cluster.gpus.prefix(16).map(\.name))
        trainer.start()
        #expect(simulation.run() == .finished)
        for (index, gpu) in plan.gpus.enumerated() {
            let hbm = cluster.memoryReports()[index]
            let states = gpu.modelStates
            #expect(hbm.peakBytes(.parameters) == states.parameterBytes, "\(gpu.gpuName)")
            #expect(hbm.peakBytes(.gradients) == states.gradientBytes, "\(gpu.gpuName)")
            #expect(hbm.peakBytes(.optimizerState) == states.optimizerBytes, "\(gpu.gpuName)")
            #expect(hbm.peakBytes(.activations) == gpu.peakActivationBytes, "\(gpu.gpuName)")
            #expect(hbm.peakBytes == gpu.totalBytes, "\(gpu.gpuName)")
            #expect(gpu.pipelineRank == index / 8 && gpu.dataIndex == index % 8)
        }
    }

    /// With every copy's micro-batch the same size, the in-flight count at the peak is the schedule's
    /// (REFERENCES.md: GPipe m, 1F1B and ZB1P PP, DualPipe PP + 1 on the busiest rank).
    @Test("in-flight micro-batches at the peak are the schedule's peak count", arguments: [4, 8])
    func inFlightIsTheSchedulesCount(stages pp: Int) throws {
        let durations = OpDurations(
            forward: .microseconds(1), backwardInput: .microseconds(1), backwardWeight: .microseconds(1))
        for kind in [PipelineScheduleKind.gpipe, .oneFOneB, .zeroBubbleH1, .dualPipe] {
            let schedule = try PipelineSchedule.generate(kind, stages: pp, microBatches: 2 * pp)
            let counts = try schedule.analyze(durations: durations).peakActivations
            for (rank, ops) in schedule.devices.enumerated() {
                let stages = schedule.directions.flatMap { direction in
                    (0..<pp).filter { schedule.stageDevices[direction.rawValue][$0] == rank }.map { (direction, $0) }
                }
                let peak = StepMemoryPlan.activationPeak(of: ops, bytes: stages.map { _ in 1 }) { chunk in
                    stages.firstIndex { $0.0 == chunk.direction && $0.1 == chunk.stage }
                }
                #expect(peak.reduce(0, +) == counts[rank], "\(kind) rank \(rank)")
            }
        }
    }

    @Test("a GPU whose peak exceeds its free HBM is refused by name, with the fullest GPU's figures")
    func refusesTheFullestGPU() throws {
        let (trainer, cluster, simulation) = try Self.trainer(.dualPipe, microBatches: 4)
        let plan = trainer.pipeline.memoryPlan()
        // Room for every GPU's peak, but gpu9 has 100 bytes too few and gpu3 one byte too few.
        var hbms = plan.gpus.map { HBM(gpuName: $0.gpuName, capacityBytes: $0.totalBytes) }
        hbms[9] = HBM(gpuName: "gpu9", capacityBytes: plan.gpus[9].totalBytes - 100)
        hbms[3] = HBM(gpuName: "gpu3", capacityBytes: plan.gpus[3].totalBytes - 1)
        #expect(
            throws: StepMemoryError.doesNotFit(
                plan.gpus[9], capacityBytes: hbms[9].capacityBytes, freeBytes: hbms[9].capacityBytes, misfits: 2,
                gpuCount: 16)
        ) { try plan.check(against: hbms) }
        // Bytes already in use count against the GPU: one byte in use on an exact fit is refused.
        var exact = plan.gpus.map { HBM(gpuName: $0.gpuName, capacityBytes: $0.totalBytes) }
        #expect(throws: Never.self) { try plan.check(against: exact) }
        try exact[5].allocate(1, .commBuffers)
        #expect(
            throws: StepMemoryError.doesNotFit(
                plan.gpus[5], capacityBytes: plan.gpus[5].totalBytes, freeBytes: plan.gpus[5].totalBytes - 1,
                misfits: 1, gpuCount: 16)
        ) { try plan.check(against: exact) }
        // The trainer checks itself when built: on GPUs one byte smaller than gpu9's peak it refuses to exist.
        let small = Simulation(seed: 0)
        var spec = ClusterSpec(gpu: .h800, nodeCount: 2)
        spec.gpu.hbmBytes = plan.gpus.map(\.totalBytes).max()! - 1
        let cramped = try Cluster(spec, in: small)
        let layout = try ParallelLayout(
            pipelineStages: 2, expertParallel: 4, dataParallelReplicas: 2, gpuCount: 16, gpusPerNode: 8,
            expertCount: ModelPreset.tiny.config.routedExpertCount)
        #expect(throws: StepMemoryError.self) {
            var options = ExpertParallelLayer.Options()
            options.fp8Dispatch = false
            _ = try DistributedTrainer(
                layout: layout, cluster: cramped,
                schedule: try PipelineSchedule.generate(
                    .dualPipe, stages: 2,
                    microBatches: 4), config: try ModelPreset.tiny.config(layers: 4),
                training: tinyTraining(microBatches: 32, steps: 1), phantom: true, options: options)
        }
        #expect(small.liveProcessCount == 0 && small.eventCount == 0)
        // The real cluster's 80 GB GPUs hold the tiny model; checking starts nothing.
        #expect(throws: Never.self) { try trainer.pipeline.checkMemory(cluster.memoryReports()) }
        #expect(simulation.liveProcessCount == 0 && simulation.eventCount == 0)
    }

    @Test("the refusal prints every figure in GB")
    func refusalText() {
        let plan = StepMemoryPlan.GPUPlan(
            gpuName: "gpu256", pipelineRank: 2, dataIndex: 0, stages: [2, 13],
            modelStates: ModelStateMemory(
                parameterBytes: 6_547_000_000, gradientBytes: 6_547_000_000,
                optimizerBytes: 8_630_000_000),
            activationBytesPerMicroBatch: [4_940_000_000, 4_940_000_000], peakInFlight: [14, 3])
        let error = StepMemoryError.doesNotFit(
            plan, capacityBytes: 85_520_000_000, freeBytes: 85_000_000_000, misfits: 1792, gpuCount: 2048)
        #expect(
            error.description
                == "the step does not fit in HBM (GB = 1e9 bytes): gpu256 (pipeline rank 2, data index 0, stages 2+13) "
                + "needs 105.70 GB at the step's peak = parameters 6.55 GB + gradients 6.55 GB + optimizer shard 8.63 GB "
                + "+ activations 83.98 GB (activations=full, 17 micro-batches in flight at the schedule's peak: 14 of stage 2 × 4.94 GB + "
                + "3 of stage 13 × 4.94 GB), HBM 85.52 GB, 85.00 GB free; 1792 of 2048 GPUs do not fit; nothing was run"
        )
    }
}
