import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

@Suite("ZeRO memory and traffic", .serialized)
struct DataParallelMemoryTests {
    /// Ψ of the 2-layer tiny model, from the real parameter set (not from the cost model the trainer uses).
    private func realParameterCount() throws -> Int {
        let config = try tinyConfig(stage: .plain)
        return try MoETransformer(config: config.model).initialParameters(seed: 1).elementCount
    }

    @Test("HBM by kind equals the ZeRO formulas exactly on every GPU", arguments: ZeROStage.allCases)
    func memoryByKind(stage: ZeROStage) throws {
        let ranks = 4
        let psi = try realParameterCount()
        #expect(psi % ranks == 0)
        let run = try trainDataParallel(try tinyConfig(stage: stage, steps: 1), ranks: ranks)
        #expect(run.result.parameterCount == psi)
        let shard = psi / ranks
        let expected: (parameters: Int, gradients: Int, optimizer: Int) =
            switch stage {
            case .plain: (2 * psi, 2 * psi, 12 * psi)
            case .optimizerStates: (2 * psi, 2 * psi, 12 * shard)
            case .gradients: (2 * psi, 2 * shard, 12 * shard)
            case .parameters: (2 * shard, 2 * shard, 12 * shard)
            }
        let largestBucket = run.trainer.layout.largestBucketElementCount
        for hbm in run.hbm.prefix(ranks) {
            #expect(hbm.peakBytes(.gradients) == expected.gradients, "\(stage) \(hbm.gpuName)")
            #expect(hbm.peakBytes(.optimizerState) == expected.optimizer)
            // Stage 3 holds one gathered layer at a time on top of its shard.
            let gathered = stage == .parameters ? 2 * largestBucket : 0
            #expect(hbm.peakBytes(.parameters) == expected.parameters + gathered)
            #expect(hbm.peakBytes(.activations) == run.trainer.activationBytesPerMicroBatch)
            // Everything is released when the run ends.
            #expect(hbm.usedBytes == 0)
        }
        // GPUs outside the DP group hold nothing.
        #expect(run.hbm[ranks].peakBytes == 0)
    }

    @Test("moments=bf16 charges K = 8: 8Ψ/N_d of optimizer state")
    func bf16Moments() throws {
        let psi = try realParameterCount()
        let run = try trainDataParallel(
            try tinyConfig(stage: .optimizerStates, steps: 1, isReal: false, bf16Moments: true), ranks: 2)
        #expect(run.hbm[0].peakBytes(.optimizerState) == 8 * psi / 2)
    }

    @Test("DP bytes per rank: stages 0-2 send 2·(N-1)/N·2Ψ, stage 3 1.5 times that")
    func traffic() throws {
        let ranks = 8
        let psi = try realParameterCount()
        var bytes: [ZeROStage: Int] = [:]  // lookup only, never iterated
        for stage in ZeROStage.allCases {
            let run = try trainDataParallel(try tinyConfig(stage: stage, steps: 1, isReal: false), ranks: ranks)
            let sent = run.result.bytesSentPerRank
            #expect(sent.count == ranks && sent.allSatisfy { $0 == sent[0] }, "\(stage): \(sent)")
            bytes[stage] = sent[0]
        }
        let plain = 2 * (ranks - 1) * 2 * psi / ranks
        #expect(bytes[.plain] == plain)
        #expect(bytes[.optimizerStates] == plain && bytes[.gradients] == plain)
        let ratio = Double(bytes[.parameters] ?? 0) / Double(plain)
        #expect(abs(ratio - 1.5) <= 0.015, "stage 3 / stage 1 = \(ratio)")
    }

    @Test("the planner formulas: the seed's 10B example and ZeRO Figure 1 (7.5B on 64 GPUs)")
    func plannerFormulas() {
        let seed = ModelStateMemory(parameterCount: 10_000_000_000, ranks: 1, stage: .plain)
        #expect(seed.parameterBytes == 20_000_000_000 && seed.gradientBytes == 20_000_000_000)
        #expect(seed.optimizerBytes == 120_000_000_000 && seed.totalBytes == 160_000_000_000)
        let figure1 = ZeROStage.allCases.map {
            ModelStateMemory(parameterCount: 7_500_000_000, ranks: 64, stage: $0).totalBytes
        }
        #expect(figure1 == [120_000_000_000, 31_406_250_000, 16_640_625_000, 1_875_000_000])
        // Rounded as the paper prints them: 120 / 31.4 / 16.6 / 1.88 GB.
        #expect(figure1.map { (Double($0) / 1e9 * 100).rounded() / 100 } == [120, 31.41, 16.64, 1.88])
        #expect(
            ModelStateMemory(parameterCount: 64, ranks: 64, stage: .parameters, optimizerBytesPerParameter: 8)
                .totalBytes == 12)
    }

    @Test("a run that cannot fit is refused with outOfMemory naming the GPU, kind and bytes")
    func outOfMemory() throws {
        let config = DataParallelConfig(
            model: ModelPreset.dsv3.config, stage: .plain, sequencesPerMicroBatch: 1, sequenceLength: 4096,
            isReal: false)
        let simulation = Simulation(seed: 0)
        let cluster = try Cluster.singleNode(in: simulation)
        let trainer = try DataParallelTrainer(
            config: config, communicator: try .init(cluster: cluster, ranks: [GPUID(0), GPUID(1)]))
        #expect {
            try trainer.checkMemory(cluster.memoryReports())
        } throws: { error in
            guard case HardwareError.outOfMemory(let gpu, let kind, let requested, _, let capacity) = error else {
                return false
            }
            return gpu == "gpu0" && kind == .parameters && requested == 2 * trainer.parameterCount
                && capacity == GPUSpec.hopper80GBBytes
        }
    }
}
