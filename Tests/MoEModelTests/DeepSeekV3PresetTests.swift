import Testing

@testable import MoEModel

/// The DeepSeek-V3 preset against its public config (deepseek-ai/DeepSeek-V3 `inference/configs/config_671B.json`)
/// and the report's training setting (arXiv 2412.19437).
@Suite struct DeepSeekV3PresetTests {
    @Test func configMatchesThePublishedOne() throws {
        let config = ModelPreset.dsv3.config
        #expect(config.layerCount == 61 && config.denseLayerCount == 3)
        #expect(config.expertGroupCount == 8 && config.expertGroupLimit == 4 && config.routeScale == 2.5)
        #expect(config.routedExpertCount == 256 && config.topK == 8 && config.gateKind == .sigmoid)
        #expect(config.attention == .multiLatent(.deepSeekV3))
        #expect(ModelPreset.dsv3.sequenceLength == 4096)
        // The groups change routing, not the parameter count (671.03B, CostModelTests).
        let counts = try CostModel(config: config, tokens: 4096, sequenceLength: 4096).parameterCounts
        #expect(counts.total == 671_026_404_352)
    }

    @Test func stepDefaultsFollowTheReport() throws {
        let step = try #require(ModelPreset.dsv3.stepDefaults)
        #expect(step.gpuCount == 2048 && step.nodeCount == 256 && step.dataParallel == 128)
        #expect(step.nodesPerExpertGroup == 8)
        #expect(step.globalBatchSequences == 15360 && step.sequencesPerMicroBatch == 1)
        // M = 15360 / (128 × 1) = 120: even and at least 2 × PP, as DualPipe requires.
        #expect(step.microBatches == 120)
        #expect(step.microBatches % 2 == 0 && step.microBatches >= 2 * step.pipelineStages)
        #expect(step.tokensPerStep == 62_914_560 && step.tokensPerMicroBatch == 4096)
        #expect(step.linearDType == .fp8e4m3 && step.attentionCoreDType == .bf16)
        #expect(step.communicationSMs == 20 && step.bf16Moments && step.zeroStage == 1 && step.nodeLimit == 4)
        #expect(step.summary.contains("M = 120"))
        #expect(throws: ModelError.self) { try step.microBatches(dataParallel: 100) }
        #expect(ModelPreset.tiny.stepDefaults == nil)
    }

    @Test func miniKeepsTheShapesWithFewerLayers() throws {
        let config = ModelPreset.dsv3Mini.config
        #expect(config.layerCount == 8 && config.denseLayerCount == 3 && config.hiddenSize == 7168)
        // EP16 spans 2 nodes: one group per node; M = 4 does not bind on 2 nodes.
        #expect(config.expertGroupCount == 2 && config.expertGroupLimit == nil && config.routeScale == 2.5)
        let step = try #require(ModelPreset.dsv3Mini.stepDefaults)
        #expect(step.gpuCount == 128 && step.nodeCount == 16 && step.dataParallel == 32 && step.microBatches == 8)
        #expect(step.nodesPerExpertGroup == 2)
        #expect(ModelPreset.dsv3Mini.isPhantomOnly && ModelPreset(rawValue: "dsv3-mini") == .dsv3Mini)
        #expect(try ModelPreset.dsv3Mini.config(layers: 4).denseLayerCount == 3)
    }

    @Test func nodeLimitedGroupsFollowTheEPGroup() throws {
        let v3 = MoEConfig.deepSeekV3
        #expect(try v3.nodeLimited(nodeCount: 8, limit: 4) == v3)
        let twoNodes = try v3.nodeLimited(nodeCount: 2, limit: 4)
        #expect(twoNodes.expertGroupCount == 2 && twoNodes.expertGroupLimit == nil)
        #expect(throws: ModelError.self) { try v3.nodeLimited(nodeCount: 3, limit: 2) }
        #expect(throws: ModelError.self) { try v3.nodeLimited(nodeCount: 8, limit: 0) }
    }

    @Test func attentionCoreFLOPsAreSplitOut() throws {
        let costs = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        let attention = try #require(costs.layerOps(5).first { $0.kind == .attention })
        // 2 · T(T+1)/2 pairs · 128 heads · (192 query-key + 128 value dimensions).
        let core = 2 * (4096 * 4097 / 2) * 128 * (192 + 128)
        #expect(attention.forwardAttentionCoreFLOPs == core)
        #expect(attention.backwardInputAttentionCoreFLOPs == 2 * core)
        // The rest is the MLA projections: 2 T Σ in·out.
        let projections = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + 128 * 128 * 7168
        #expect(attention.forwardFLOPs - core == 2 * 4096 * projections)
        #expect(costs.layerOps(5).allSatisfy { $0.kind == .attention || $0.forwardAttentionCoreFLOPs == 0 })
    }
}
