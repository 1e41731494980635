import Hardware
import MoEModel
import SimCore
import Testing

@testable import Parallelism

/// FP8 in the composed trainer: the stage workers' kernels follow the run's `ComputePrecision` (FP8 linear
/// GEMMs, BF16 attention core, head and gate); precision changes times, never values.
@Suite(.serialized) struct PipelinePrecisionTests {
    /// DeepSeek-V3's shapes with 4 layers (3 dense, then one MoE layer) and 16 routed experts, so a PP=2 stage
    /// holding the MoE layer's experts fits in HBM without EP.
    static let config: MoEConfig = {
        var config = MoEConfig.deepSeekV3
        config.layerCount = 4
        config.routedExpertCount = 16
        config.expertGroupCount = 1
        config.expertGroupLimit = nil
        return config
    }()
    static let commSMs = 20

    private func run(
        config: MoEConfig, precision: ComputePrecision, phantom: Bool, sequencesPerMicroBatch: Int,
        sequenceLength: Int, gemmRates: GEMMRates = .peak
    ) throws -> (report: PipelineRunReport, trainer: PipelineTrainer) {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2)
        let training = TrainingConfig(
            seed: 3, steps: 1, microBatchesPerStep: 2, sequencesPerMicroBatch: sequencesPerMicroBatch,
            sequenceLength: sequenceLength)
        let trainer = try PipelineTrainer(
            schedule: schedule, config: config, training: training, costs: .model, gpus: Array(cluster.gpus.prefix(2)),
            phantom: phantom, commSMCount: Self.commSMs, precision: precision, gemmRates: gemmRates)
        trainer.start()
        let stop = simulation.run()
        guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
        return (try trainer.report(), trainer)
    }

    /// One op part's closed form on `sms` SMs: the linear FLOPs at `efficiency` of the linear rate (with every
    /// HBM byte and the launch), the higher-precision FLOPs (attention core; all of a head or gate) at the BF16
    /// rate.
    private func closedForm(
        linear: Int, high: Int, bytes: Int, linearPeak: Double, efficiency: Double, spec: GPUSpec, sms: Int
    ) -> Int64 {
        let perSM = { (peak: Double) in Double(sms) * peak / Double(spec.smCount) }
        let launch = spec.kernelLaunchOverhead.nanoseconds
        let memory = Double(bytes) / spec.hbmBytesPerSecond
        var total: Int64 = 0
        if linear > 0 {
            total += Int64((max(Double(linear) / (perSM(linearPeak) * efficiency), memory) * 1e9).rounded()) + launch
            if high > 0 { total += Int64((Double(high) / perSM(spec.denseBF16FlopsPerSecond) * 1e9).rounded()) }
        } else if high > 0 {
            total += Int64((max(Double(high) / perSM(spec.denseBF16FlopsPerSecond), memory) * 1e9).rounded()) + launch
        }
        return total
    }

    /// Per stage, the compute SMs' busy time of one micro-batch's F, B and W under DeepSeek-V3's precisions.
    /// `efficiency` gives each op's linear-GEMM efficiency (1: the datasheet peak).
    private func expectedCompute(
        stageLayers: [Range<Int>], linearPeak: Double, efficiency: (OpCost) -> Double = { _ in 1 }
    ) throws -> [Int64] {
        let spec = GPUSpec.h800
        let costs = try CostModel(config: Self.config, tokens: 4096, sequenceLength: 4096)
        let kept: [OpKind] = [.head, .gate]
        return stageLayers.map { layers in
            costs.stageOps(layers: layers).reduce(Int64(0)) { total, op in
                let isKept = kept.contains(op.kind)
                let parts = [
                    (op.forwardFLOPs, isKept ? op.forwardFLOPs : op.forwardAttentionCoreFLOPs),
                    (op.backwardInputFLOPs, isKept ? op.backwardInputFLOPs : op.backwardInputAttentionCoreFLOPs),
                    (op.backwardWeightFLOPs, isKept ? op.backwardWeightFLOPs : 0),
                ]
                return total
                    + parts.reduce(Int64(0)) { sum, part in
                        sum
                            + closedForm(
                                linear: part.0 - part.1, high: part.1, bytes: op.forwardMemoryBytes,
                                linearPeak: linearPeak, efficiency: efficiency(op), spec: spec,
                                sms: spec.smCount - Self.commSMs)
                    }
            }
        }
    }

    @Test("FP8 linear GEMMs: each GPU's compute time is the closed form, FP8 FLOPs at 1979 and BF16 at 989 TFLOP/s")
    func fp8ComputeIsTheClosedForm() throws {
        let (fp8, trainer) = try run(
            config: Self.config, precision: .deepSeekV3, phantom: true, sequencesPerMicroBatch: 1,
            sequenceLength: 4096)
        let step = try #require(fp8.steps.first?.report)
        let expected = try expectedCompute(
            stageLayers: trainer.stageLayers, linearPeak: GPUSpec.h800.denseFP8FlopsPerSecond)
        for (gpu, perMicroBatch) in expected.enumerated() {
            // Two micro-batches of F, B and W each; at most 1 ns of rounding per kernel.
            let measured = step.gpus[gpu].breakdown[.compute].nanoseconds
            #expect(abs(measured - 2 * perMicroBatch) <= 200, "gpu\(gpu): \(measured) vs \(2 * perMicroBatch)")
        }
        // The same run in BF16 is the same closed form at 989 TFLOP/s, and slower.
        let (bf16, _) = try run(
            config: Self.config, precision: .bf16, phantom: true, sequencesPerMicroBatch: 1, sequenceLength: 4096)
        let slow = try #require(bf16.steps.first?.report)
        let bf16Expected = try expectedCompute(
            stageLayers: trainer.stageLayers, linearPeak: GPUSpec.h800.denseBF16FlopsPerSecond)
        for (gpu, perMicroBatch) in bf16Expected.enumerated() {
            #expect(abs(slow.gpus[gpu].breakdown[.compute].nanoseconds - 2 * perMicroBatch) <= 200, "gpu\(gpu)")
            #expect(step.gpus[gpu].breakdown[.compute] < slow.gpus[gpu].breakdown[.compute])
        }
        #expect(step.stepTime < slow.stepTime)
        // Every FLOP of the model is counted once, split by class for MFU at the FP8 peak.
        let costs = try CostModel(config: Self.config, tokens: 4096, sequenceLength: 4096)
        let linear = try #require(step.fp8ModelFLOPs)
        #expect(step.modelFLOPs == 2 * Double(costs.totalFLOPs))
        let higher = costs.ops.reduce(0) { total, op in
            [OpKind.head, .gate].contains(op.kind)
                ? total + op.totalFLOPs : total + op.forwardAttentionCoreFLOPs + op.backwardInputAttentionCoreFLOPs
        }
        #expect(linear == 2 * Double(costs.totalFLOPs - higher))
        #expect(linear > 0.5 * (step.modelFLOPs ?? 0))
        #expect(slow.fp8ModelFLOPs == nil)
    }

    /// DeepGEMM's published H800 FP8 rates (README at 8002b76, M = 4096) for V3's op kinds, by hand: MLA's
    /// q_a + kv_a (N 2112, K 7168) 1009, q_b (24576, 1536) 1125, kv_b (32768, 512) 751, o (7168, 16384)
    /// 1426 TFLOP/s; a shared expert's gate + up (4096, 7168) 1265 and down (7168, 2048) 1168; each GEMM
    /// weighted by its FLOPs (K × N per row): Σ w / Σ (w / e). No figure: the dense FFN (N 36864) and the rest.
    private static func handEfficiency(_ op: OpCost) -> Double {
        func mix(_ parts: [(weight: Double, teraFLOPS: Double)]) -> Double {
            parts.reduce(0) { $0 + $1.weight } / parts.reduce(0) { $0 + $1.weight / ($1.teraFLOPS / 1979) }
        }
        switch op.kind {
        case .attention:
            return mix([(7168 * 2112, 1009), (1536 * 24576, 1125), (512 * 32768, 751), (16384 * 7168, 1426)])
        case .sharedExperts: return mix([(7168 * 4096, 1265), (2048 * 7168, 1168)])
        default: return 1
        }
    }

    @Test("published GEMM rates: each GPU's compute time is the closed form at DeepGEMM's H800 figures")
    func publishedRatesAreTheClosedForm() throws {
        let (published, trainer) = try run(
            config: Self.config, precision: .deepSeekV3, phantom: true, sequencesPerMicroBatch: 1,
            sequenceLength: 4096, gemmRates: .published)
        let step = try #require(published.steps.first?.report)
        let expected = try expectedCompute(
            stageLayers: trainer.stageLayers, linearPeak: GPUSpec.h800.denseFP8FlopsPerSecond,
            efficiency: Self.handEfficiency)
        let atPeak = try expectedCompute(
            stageLayers: trainer.stageLayers, linearPeak: GPUSpec.h800.denseFP8FlopsPerSecond)
        for (gpu, perMicroBatch) in expected.enumerated() {
            let measured = step.gpus[gpu].breakdown[.compute].nanoseconds
            #expect(abs(measured - 2 * perMicroBatch) <= 200, "gpu\(gpu): \(measured) vs \(2 * perMicroBatch)")
            #expect(perMicroBatch > atPeak[gpu], "gpu\(gpu): the published rates are below the peak")
        }
        // The attention op's efficiency: 61.7 % of the FP8 peak (by hand: Σ w / Σ (w / e)).
        let attention = try #require(
            try CostModel(config: Self.config, tokens: 4096, sequenceLength: 4096).ops.first { $0.kind == .attention })
        #expect(abs(PublishedGEMMRates.efficiency(of: attention) - Self.handEfficiency(attention)) < 1e-12)
        #expect(abs(Self.handEfficiency(attention) - 0.617) < 0.001)
    }

    @Test("published GEMM rates apply only where measured: other shapes, row counts and GPUs keep the peak")
    func publishedRatesOnlyWhereMeasured() {
        #expect(PublishedGEMMRates.efficiency(n: 7168, k: 2048, rows: 4096, grouped: false) == 1168e12 / 1979e12)
        #expect(PublishedGEMMRates.efficiency(n: 7168, k: 2048, rows: 2048, grouped: false) == nil)
        #expect(PublishedGEMMRates.efficiency(n: 7168, k: 2048, rows: 8192, grouped: true) == 1214e12 / 1979e12)
        #expect(PublishedGEMMRates.efficiency(n: 7168, k: 2048, rows: 2048, grouped: true) == nil)
        #expect(PublishedGEMMRates.efficiency(n: 36864, k: 7168, rows: 4096, grouped: false) == nil)
        #expect(PublishedGEMMRates.applies(to: .h800))
        #expect(!PublishedGEMMRates.applies(to: .b200))
        #expect(!PublishedGEMMRates.applies(to: .h100))
    }

    @Test("a real tiny run: losses and parameters do not depend on the precision, only times can")
    func precisionChangesTimesOnly() throws {
        let tiny = ModelPreset.tiny
        let fp8 = try run(
            config: tiny.config, precision: .deepSeekV3, phantom: false, sequencesPerMicroBatch: 1,
            sequenceLength: tiny.sequenceLength
        ).report
        let bf16 = try run(
            config: tiny.config, precision: .bf16, phantom: false, sequencesPerMicroBatch: 1,
            sequenceLength: tiny.sequenceLength
        ).report
        #expect(fp8.steps.map(\.report.loss) == bf16.steps.map(\.report.loss))
        #expect(try fp8.maxRelativeDifference(to: bf16.parameters) == 0)
    }
}
