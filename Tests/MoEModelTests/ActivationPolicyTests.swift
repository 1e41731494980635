import Testing
import Tensors

@testable import MoEModel

/// The activation bytes a micro-batch keeps from F to W under each `ActivationPolicy`, against hand-computed
/// closed forms, and the recomputation `.deepseek` charges in B.
@Suite struct ActivationPolicyTests {
    /// An MLA + MoE config small enough to count by hand: hidden 256, 4 heads, MLA ranks 64 (query) and 32
    /// (key-value), head dimensions nope 32, rope 16, value 32; 8 routed experts top-2 of width 64, 1 shared,
    /// dense width 128, vocabulary 100; layer 0 dense, layer 1 MoE.
    static let mla = MoEConfig(
        vocabularySize: 100, hiddenSize: 256, layerCount: 2, headCount: 4, routedExpertCount: 8,
        sharedExpertCount: 1, topK: 2, expertWidth: 64, denseWidth: 128, denseLayerCount: 1, gateKind: .sigmoid,
        attention: .multiLatent(
            MultiLatentAttention(
                queryLoraRank: 64, keyValueLoraRank: 32, ropeHeadDimension: 16, nopeHeadDimension: 32,
                valueHeadDimension: 32)))

    static func model(_ config: MoEConfig, tokens: Int, sequence: Int, _ policy: ActivationPolicy) throws -> CostModel {
        try CostModel(config: config, tokens: tokens, sequenceLength: sequence, activations: policy)
    }

    @Test("FP8 and E5M6 rows: a byte (1.5 bytes) per value plus a 4-byte scale per 128 values")
    func rowFormats() {
        #expect(CostModel.fp8RowBytes(7168) == 7168 + 4 * 56)
        #expect(CostModel.fp8RowBytes(129) == 129 + 8)
        #expect(CostModel.e5m6RowBytes(16384) == 24576 + 4 * 128)
        #expect(CostModel.e5m6RowBytes(8) == 12 + 4)
    }

    /// The tests' tiny MHA model (hidden 8, 2 heads, 4 experts top-2 of width 6, 1 shared, dense width 10, vocabulary
    /// 11), 6 tokens in BF16. Full, per op input + output: embedding 6·4 + 6·8·2 = 120; attention 96 + 96;
    /// dense FFN 96 + 96; gate 96 + 6·4·2 = 144; experts 12 rows: 192 + 192; shared 96 + 96; head 96 + 6·11·2.
    /// DeepSeek, per token: embedding 4; attention b(8) + b(24) + e56(8) + 4·2 = 16 + 48 + 16 + 8 = 88; dense
    /// b(8) + b(20) + f8(10) = 16 + 40 + 14 = 70; gate 16 + 8 = 24; experts 2·(f8(8) + f8(12) + 4) = 2·32;
    /// shared f8(12) = 16; head b(8) + b(11) = 38.
    @Test("tiny (multi-head attention): both policies per op against the hand count")
    func tinyClosedForm() throws {
        let config = TestModels.tiny()
        let full = try Self.model(config, tokens: 6, sequence: 3, .full)
        let deepseek = try Self.model(config, tokens: 6, sequence: 3, .deepseek)
        let expectedFull = [120, 192, 192, 192, 144, 0, 384, 0, 192, 228]
        let expectedDeepSeek = [4, 88, 70, 88, 24, 0, 64, 0, 16, 38].map { 6 * $0 }
        #expect(full.ops.map(full.cachedActivationBytes) == expectedFull)
        #expect(deepseek.ops.map(deepseek.cachedActivationBytes) == expectedDeepSeek)
        // Full is every op's input and output, as before the policy existed.
        #expect(full.ops.map { $0.inputBytes + $0.outputBytes } == expectedFull)
        // A stage: the embedding and layer 0, then layer 1 and the head.
        #expect(deepseek.stageActivationBytes(layers: 0..<1) == 6 * (4 + 88 + 70))
        #expect(full.stageActivationBytes(layers: 1..<2) == 192 + 144 + 384 + 192 + 228)
        // Multi-head attention has no up-projection to recompute: B is the same under both.
        #expect(deepseek.ops.map(\.backwardInputFLOPs) == full.ops.map(\.backwardInputFLOPs))
        #expect(deepseek.recomputeFLOPs == 0)
    }

    /// The MLA config with 128 tokens in sequences of 64, per token. Full: attention 2·(2·256) = 1024; MoE FFN
    /// gate 512 + 16, experts 2·(512 + 512), shared 512 + 512 = 4624 with the attention. DeepSeek: attention
    /// b(256) + b(64) + b(32 + 16) + e56(4·32) + 4·4 = 512 + 128 + 96 + 196 + 16 = 948; gate 512 + 16 = 528;
    /// experts 2·(f8(256) + f8(128) + 4) = 2·(264 + 132 + 4) = 800; shared f8(128) = 132; dense FFN
    /// b(256) + b(256) + f8(128) = 512 + 512 + 132 = 1156.
    @Test("MLA + MoE: both policies per layer against the hand count")
    func mlaClosedForm() throws {
        let full = try Self.model(Self.mla, tokens: 128, sequence: 64, .full)
        let deepseek = try Self.model(Self.mla, tokens: 128, sequence: 64, .deepseek)
        func layer(_ model: CostModel, _ index: Int) -> Int {
            model.layerOps(index).reduce(0) { $0 + model.cachedActivationBytes(of: $1) }
        }
        #expect(layer(full, 1) == 128 * 4624)
        #expect(layer(deepseek, 1) == 128 * (948 + 528 + 800 + 132))
        #expect(layer(deepseek, 0) == 128 * (948 + 1156))
        #expect(deepseek.cachedActivationBytesPerToken(.attention) == 948)
        // The whole model on one stage: embedding 4, head b(256) + b(100) = 712 per token.
        #expect(deepseek.stageActivationBytes(layers: 0..<2) == 128 * (4 + 948 + 1156 + 948 + 1460 + 712))
    }

    /// Recomputing the two MLA up-projections in B: 2 T (r_q · H (d_nope + d_rope) + r_kv · H (d_nope + d_v))
    /// = 2·128·(64·4·48 + 32·4·64) = 5,242,880 FLOPs per layer, linear GEMMs (not attention core); F and W
    /// unchanged.
    @Test("deepseek adds the up-projections' recomputation to B, nothing else")
    func recomputeFLOPs() throws {
        let full = try Self.model(Self.mla, tokens: 128, sequence: 64, .full)
        let deepseek = try Self.model(Self.mla, tokens: 128, sequence: 64, .deepseek)
        let perLayer = 2 * 128 * (64 * 4 * 48 + 32 * 4 * 64)
        #expect(perLayer == 5_242_880)
        for (a, b) in zip(full.ops, deepseek.ops) {
            let expected = b.kind == .attention ? perLayer : 0
            #expect(b.backwardInputFLOPs - a.backwardInputFLOPs == expected, "\(b.name)")
            #expect(b.backwardInputRecomputeFLOPs == expected && a.backwardInputRecomputeFLOPs == 0)
            #expect(b.forwardFLOPs == a.forwardFLOPs && b.backwardWeightFLOPs == a.backwardWeightFLOPs)
            #expect(b.backwardInputAttentionCoreFLOPs == a.backwardInputAttentionCoreFLOPs)
        }
        #expect(deepseek.recomputeFLOPs == 2 * perLayer)
        #expect(deepseek.totalFLOPs - deepseek.recomputeFLOPs == full.totalFLOPs)
    }

    /// DeepSeek-V3 per token and MoE layer: 44,160 attention (14336 + 3072 + 1152 + 25088 + 512) + 112,032 FFN
    /// (14336 + 512 + 8·11620 + 4224) = 156,192 bytes, against 301,568 under full (the refused step's 4.94 GB
    /// per four-layer micro-batch of 4096 tokens).
    @Test("DeepSeek-V3's MoE layer per token under both policies")
    func deepSeekV3Layer() throws {
        let full = try Self.model(.deepSeekV3, tokens: 4096, sequence: 4096, .full)
        let deepseek = try Self.model(.deepSeekV3, tokens: 4096, sequence: 4096, .deepseek)
        #expect(full.stageActivationBytes(layers: 3..<4) == 4096 * 301_568)
        #expect(deepseek.stageActivationBytes(layers: 3..<4) == 4096 * 156_192)
        #expect(4 * 4096 * 301_568 == 4_940_890_112)
        #expect(TrainingStepDefaults.deepSeekV3.activations == .deepseek)
    }
}
