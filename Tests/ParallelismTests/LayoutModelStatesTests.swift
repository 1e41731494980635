import Hardware
import MoEModel
import Testing

@testable import Parallelism

/// DeepSeek-V3's layout from its preset, and the per-GPU model states of ZeRO-1 in it (issue 16).
@Suite struct LayoutModelStatesTests {
    @Test func deepSeekV3LayoutFromThePreset() throws {
        let step = try #require(ModelPreset.dsv3.stepDefaults)
        let layout = try ParallelLayout(defaults: step, expertCount: 256)
        #expect(layout.gpuCount == 2048 && layout.dataParallel == 128 && layout.dataParallelReplicas == 2)
        #expect(layout.expertParallel == 64 && layout.nodesPerExpertGroup == 8)
        #expect(layout.expertGroups.allSatisfy { Set($0.map { $0 / 8 }).count == 8 })
        #expect(layout.dataGroups.allSatisfy { $0.count == 128 })
        #expect(layout.expertDataGroups.allSatisfy { $0.count == 2 })
        let mini = try ParallelLayout(defaults: try #require(ModelPreset.dsv3Mini.stepDefaults), expertCount: 256)
        #expect(mini.gpuCount == 128 && mini.nodesPerExpertGroup == 2 && mini.dataParallel == 32)
        #expect(mini.pipelineNeighboursOnDifferentNodes)
    }

    @Test func zeroOneStatesOfAComposedLayoutAreTheFormula() {
        let states = ModelStateMemory(
            zero1NonExpert: 1_000, dataParallel: 128, expertPerGPU: 301, expertDataParallel: 2,
            optimizerBytesPerParameter: 8)
        #expect(states.parameterBytes == 2 * 1_301 && states.gradientBytes == 2 * 1_301)
        // K Ψ_n / DP_total + K Ψ_e / DP_replica, each shard rounded up.
        #expect(states.optimizerBytes == 8 * 8 + 8 * 151)
    }

    /// DeepSeek-V3 parameters by hand (MLA projections + norms, gate, experts) for rank 0 of PP16 DualPipe, which
    /// holds stage 0 (embedding, dense layers 0–2) and stage 15 (MoE layers 58–60, final norm, head).
    @Test func deepSeekV3RankZeroUnderDualPipe() throws {
        let h = 7168
        let attention = h * 1536 + 1536 * 128 * 192 + h * 576 + 512 * 128 * 256 + 128 * 128 * h + (h + 1536 + 512)
        let dense = 3 * h * 18432 + h
        let moeNonExpert = attention + (h * 256 + h) + 3 * h * 2048
        let expertsPerGPU = 3 * (256 / 64) * 3 * h * 2048
        let stage0 = 129_280 * h + 3 * (attention + dense)
        let stage15 = 3 * moeNonExpert + h * 129_280 + h
        func shard(_ count: Int, _ ranks: Int) -> Int { (count + ranks - 1) / ranks }
        let expected =
            4 * (stage0 + stage15) + 8 * shard(stage0, 128) + 8 * shard(stage15, 128) + 4 * expertsPerGPU + 8
            * shard(expertsPerGPU, 2)
        let layout = try ParallelLayout(defaults: try #require(ModelPreset.dsv3.stepDefaults), expertCount: 256)
        let states = try layout.modelStates(config: .deepSeekV3, pipelineRank: 0, dualPipe: true, bf16Moments: true)
        #expect(states.totalBytes == expected)
        #expect(states.totalBytes == 21_708_007_872)
        // Every rank fits an 80 GB H800 before activations; ranks 0 and 15 hold the most (20.2 GiB).
        let all = try (0..<16).map {
            try layout.modelStates(config: .deepSeekV3, pipelineRank: $0, dualPipe: true, bf16Moments: true).totalBytes
        }
        #expect(all.max() == expected && all[15] == expected && all.allSatisfy { $0 < GPUSpec.hopper80GBBytes })
        // Without DualPipe rank 0 holds stage 0 only; FP32 moments cost 4 more bytes per sharded parameter.
        let single = try layout.modelStates(config: .deepSeekV3, pipelineRank: 0, dualPipe: false, bf16Moments: true)
        #expect(single.totalBytes == 4 * stage0 + 8 * shard(stage0, 128))
        let fp32 = try layout.modelStates(config: .deepSeekV3, pipelineRank: 0, dualPipe: false, bf16Moments: false)
        #expect(fp32.optimizerBytes == 12 * shard(stage0, 128))
        #expect(throws: LayoutError.self) {
            try layout.modelStates(config: .deepSeekV3, pipelineRank: 16, dualPipe: true, bf16Moments: true)
        }
    }
}
