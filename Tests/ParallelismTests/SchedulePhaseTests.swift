import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// The step report's schedule phases (warm-up, steady, cool-down, trailing W, optimizer, bubble) from the executed
/// ops' instants: they add up to the step time exactly, and under unit costs they are the schedule's counts
/// times the op durations.
@Suite(.serialized) struct SchedulePhaseTests {
    private func run(
        _ kind: PipelineScheduleKind, pp: Int, microBatches: Int, costs: PipelineCosts, dp: Int = 1
    ) throws -> StepReport {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 1), in: simulation)
        let schedule = try PipelineSchedule.generate(kind, stages: pp, microBatches: microBatches)
        let config = try ModelPreset.tiny.config(layers: schedule.stageCount)
        let groups = try dataGroups(pp: pp, dp: dp, on: cluster)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: tinyTraining(microBatches: microBatches * dp, steps: 1),
            costs: costs, gpus: Array(cluster.gpus.prefix(schedule.deviceCount * dp)), phantom: true,
            dataGroups: groups)
        trainer.start()
        let stop = simulation.run()
        guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
        return try #require(try trainer.report().steps.first?.report)
    }

    private static func expectExact(_ step: StepReport, _ label: String) {
        #expect(!step.gpus.isEmpty, "\(label)")
        for gpu in step.gpus {
            #expect(gpu.schedulePhases.total == step.stepTime, "\(label) \(gpu.gpuName): \(gpu.schedulePhases)")
            for phase in SchedulePhaseBreakdown.Phase.allCases {
                #expect(gpu.schedulePhases[phase] >= .zero, "\(label) \(gpu.gpuName) \(phase)")
            }
            // The ops' time is the compute SMs' busy time plus what EP communication left exposed inside ops.
            let ops = [SchedulePhaseBreakdown.Phase.warmUp, .steady, .coolDown, .trailingWeights].reduce(
                SimDuration.zero
            ) { $0 + gpu.schedulePhases[$1] }
            #expect(ops == gpu.breakdown[.compute] + gpu.breakdown[.epCommunication], "\(label) \(gpu.gpuName)")
        }
        #expect(step.meanSchedulePhases?.total == step.stepTime, "\(label)")
    }

    @Test("1F1B under unit costs: rank r runs PP − r first forwards and PP − r cool-down backwards")
    func oneFOneBUnitPhases() throws {
        let (pp, m) = (4, 8)
        let step = try run(.oneFOneB, pp: pp, microBatches: m, costs: .unit(unitDurations))
        Self.expectExact(step, "1F1B")
        #expect(step.stepTime == .milliseconds(33))
        for (rank, gpu) in step.gpus.enumerated() {
            let phases = gpu.schedulePhases
            let edge = pp - rank
            #expect(phases[.warmUp] == .milliseconds(Int64(edge)), "rank \(rank)")
            // A 1F1B backward is B + W (2 ms).
            #expect(phases[.coolDown] == .milliseconds(Int64(2 * edge)), "rank \(rank)")
            #expect(phases[.steady] == .milliseconds(Int64(3 * m - 3 * edge)), "rank \(rank)")
            #expect(phases[.trailingWeights] == .zero && phases[.optimizer] == .zero)
            // (PP − 1)(f + b + w) of idle on every rank.
            #expect(phases[.bubble] == .milliseconds(9), "rank \(rank)")
        }
    }

    @Test("ZB1P defers W past the last B on the first ranks: trailing W shows, the phases still add up")
    func zeroBubbleTrailingWeights() throws {
        let step = try run(.zeroBubbleH1, pp: 4, microBatches: 8, costs: .unit(unitDurations))
        Self.expectExact(step, "ZB1P")
        #expect(step.gpus[0].schedulePhases[.trailingWeights] > .zero)
        // Every W op is somewhere: 8 micro-batches × 1 ms of F, of B and of W on each rank.
        for gpu in step.gpus {
            let ops = gpu.schedulePhases.total - gpu.schedulePhases[.bubble] - gpu.schedulePhases[.optimizer]
            #expect(ops == .milliseconds(24), "\(gpu.gpuName)")
        }
    }

    @Test("DualPipe with model costs, PP=2 × DP=2 ZeRO-1: exact on every GPU, the optimizer phase holds the DP step")
    func dualPipeModelCosts() throws {
        let step = try run(.dualPipe, pp: 2, microBatches: 4, costs: .model, dp: 2)
        Self.expectExact(step, "DualPipe")
        for gpu in step.gpus {
            #expect(gpu.schedulePhases[.steady] > .zero, "\(gpu.gpuName)")
            // The step's end holds the ZeRO collectives and AdamW: at least what the accounting calls them.
            #expect(gpu.schedulePhases[.optimizer] >= gpu.breakdown[.optimizer], "\(gpu.gpuName)")
            #expect(gpu.peakBytes > 0 && gpu.capacityBytes == GPUSpec.h800.hbmBytes)
        }
    }

    @Test("tokens per day and MFU at the FP8 peak, against a hand computation")
    func tokensPerDayAndFP8MFU() {
        let gpus = (0..<1000).map {
            GPUStepReport(gpuName: "gpu\($0)", breakdown: StepTimeBreakdown(), peakBytesByKind: [])
        }
        var step = StepReport(
            loss: nil, stepTime: .seconds(10), gpus: gpus, modelFLOPs: 3e18, peakFLOPsPerSecondPerGPU: 1e15)
        step.tokens = 15_360 * 4_096
        // 62,914,560 tokens in 10 s: 543,581,798,400 a day.
        #expect(step.tokensPerDay == 543_581_798_400)
        #expect(step.fp8ModelFLOPsUtilization == nil)
        // 3e18 FLOPs / (1000 × 1e15 × 10 s) = 0.3.
        #expect(abs((step.modelFLOPsUtilization ?? 0) - 0.3) < 1e-12)
        step.fp8ModelFLOPs = 2e18
        step.fp8PeakFLOPsPerSecondPerGPU = 2e15
        // (2e18 / 2e15 + 1e18 / 1e15) s = 2000 s of ideal time over 1000 GPUs × 10 s = 0.2.
        #expect(abs((step.fp8ModelFLOPsUtilization ?? 0) - 0.2) < 1e-12)
    }

    @Test("phase classification of ops by their place in a device's list")
    func classification() throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: 4, microBatches: 8)
        for ops in schedule.devices {
            let phases = SchedulePhaseBreakdown.phases(of: ops)
            #expect(phases.count == ops.count)
            #expect(zip(ops, phases).allSatisfy { $0.isCompute == ($1 != nil) })
            // Phases never go back.
            let order = phases.compactMap { $0?.rawValue }
            #expect(order == order.sorted())
            #expect(order.first == SchedulePhaseBreakdown.Phase.warmUp.rawValue)
        }
    }
}
