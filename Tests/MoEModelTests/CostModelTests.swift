import Testing
import Tensors

@testable import MoEModel

@Suite struct CostModelTests {
    /// Counted by hand from DeepSeek-V3's config: per layer MLA 187,107,328 (five projections and two latent
    /// norms) + 2 x 7168 norms; dense FFN 3 x 7168 x 18432; 257 experts of 3 x 7168 x 2048; router 7168 x 256;
    /// embedding and LM head 129280 x 7168 each; final norm 7168.
    @Test func deepSeekV3ParameterCounts() throws {
        let model = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        // MLA: q_a 7168 x 1536 + q_b 1536 x 128 (128 + 64) + kv_a 7168 x (512 + 64) + kv_b 512 x 128 (128 + 128)
        // + o 128 x 128 x 7168 = 187,105,280, plus the 1536 and 512 latent norms; the op adds the 7168 pre-norm.
        let projections = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + 128 * 128 * 7168
        #expect(projections + 1536 + 512 == 187_107_328)
        #expect(model.layerOps(0).first { $0.kind == .attention }?.parameterCount == 187_107_328 + 7168)
        let counts = model.parameterCounts
        #expect(counts.total == 671_026_404_352)
        #expect(abs(Double(counts.total) / 671e9 - 1) < 0.01)
        #expect(counts.activated == 37_552_282_624)
        #expect(counts.embedding == 926_679_040)
        // The published "37B activated" lies between the count with and without the input embedding table
        // (37.55B and 36.63B); each is within 1.5 % of it.
        let withoutEmbedding = counts.activated - counts.embedding
        #expect(Double(withoutEmbedding) < 37e9 && Double(counts.activated) > 37e9)
        #expect(abs(Double(counts.activated) / 37e9 - 1) < 0.015)
        #expect(abs(Double(withoutEmbedding) / 37e9 - 1) < 0.015)
    }

    /// Tiny config (hidden 8, 2 heads, vocabulary 11, 4 experts top-2 of width 6, 1 shared, dense width 10),
    /// 6 tokens in 2 sequences of 3, so 12 causal pairs per head. Counted by hand:
    /// attention F = 4 x 2 x 6 x 8 x 8 + 2 x 12 x 2 x (4 + 4) = 3072 + 384, B = 3072 + 768, W = 3072;
    /// dense FFN 3 x 2 x 6 x 8 x 10 = 2880; gate 2 x 6 x 8 x 4 = 384; routed 3 x 2 x 12 x 8 x 6 = 3456;
    /// shared 3 x 2 x 6 x 8 x 6 = 1728; head 2 x 6 x 8 x 11 = 1056.
    @Test func smallConfigMatchesHandCount() throws {
        let model = try CostModel(config: TestModels.tiny(), tokens: 6, sequenceLength: 3, dtype: .fp32)
        let byName = Dictionary(uniqueKeysWithValues: model.ops.map { ($0.name, $0) })  // lookup only, never iterated
        let attention = try #require(byName["layers.0.attention"])
        #expect(
            [attention.forwardFLOPs, attention.backwardInputFLOPs, attention.backwardWeightFLOPs] == [3456, 3840, 3072])
        #expect(byName["layers.0.ffn"]?.forwardFLOPs == 2880)
        #expect(byName["layers.1.gate"]?.backwardWeightFLOPs == 384)
        #expect(byName["layers.1.experts"]?.backwardInputFLOPs == 3456)
        #expect(byName["layers.1.shared"]?.forwardFLOPs == 1728)
        #expect(byName["head"]?.forwardFLOPs == 1056)
        let forward = model.ops.reduce(0) { $0 + $1.forwardFLOPs }
        #expect(forward == 2 * 3456 + 2880 + 384 + 3456 + 1728 + 1056)
        #expect(attention.parameterBytes == (4 * 64 + 8) * 4)
        #expect(model.parameterCounts.total == 1720)
        #expect(model.parameterCounts.activated == 1720 - 2 * 144)
    }

    /// A token activates top-k experts' parameters exactly, also when E does not divide p k (here 5 experts of
    /// p = 144, top-2: 288 activated, where p k / E x E would give 285).
    @Test func activatedRoutedParametersAreExactWhenExpertsDoNotDivide() throws {
        var config = TestModels.tiny()
        config.routedExpertCount = 5
        let model = try CostModel(config: config, tokens: 6, sequenceLength: 3, dtype: .fp32)
        let routed = try #require(model.layerOps(1).first { $0.kind == .routedExperts })
        #expect(routed.parameterCount == 5 * 144)
        #expect(routed.activatedParameterCount == 2 * 144)
        #expect(model.parameterCounts.total - model.parameterCounts.activated == 3 * 144)
    }

    @Test func parameterCountMatchesRealModel() throws {
        let config = TestModels.tiny()
        let parameters = try MoETransformer(config: config).initialParameters(seed: 1)
        let costs = try CostModel(config: config, tokens: 6, sequenceLength: 3)
        #expect(costs.parameterCounts.total == parameters.elementCount)
    }

    /// The W FLOPs of the real backward's deferred tasks equal the cost model's W FLOPs.
    @Test func weightGradientFLOPsMatchRealBackward() throws {
        let model = try MoETransformer(config: TestModels.tiny())
        let parameters = try model.initialParameters(seed: 2)
        let batch = try TokenBatch(tokens: [1, 2, 3, 4, 5, 6], targets: [2, 3, 4, 5, 6, 7], sequenceLength: 3)
        let tasks = try model.backwardInput(model.forward(batch, parameters: parameters), parameters: parameters)
        let costs = try CostModel(config: model.config, tokens: 6, sequenceLength: 3)
        #expect(tasks.reduce(0) { $0 + $1.flops } == costs.ops.reduce(0) { $0 + $1.backwardWeightFLOPs })
    }

    @Test func dispatchBytesFollowFP8Layout() throws {
        let costs = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        let dispatch = try #require(costs.layerOps(3).first { $0.kind == .dispatch })
        #expect(dispatch.forwardCommunicationBytes == 4096 * 8 * (7168 + 4 * 56 + 16))
        #expect(costs.layerOps(0).map(\.kind) == [.attention, .denseFFN])
        #expect(throws: ModelError.invalidBatch("10 tokens in sequences of 4")) {
            try CostModel(config: .deepSeekV3, tokens: 10, sequenceLength: 4)
        }
    }
}
