/// Named model shapes that commands accept (`model=tiny|small|dsv3|dsv3-mini`), with the batch shape they train on.
public enum ModelPreset: String, Sendable, CaseIterable {
    /// 8 layers (the first dense), 8 routed experts top-2, hidden 16: small enough for many tests, and every
    /// schedule up to PP=8 and every EP size up to 8 can split it.
    case tiny
    /// The training benchmark's model: hidden 256, 4 layers (the first dense), 16 routed experts top-2.
    case small
    /// DeepSeek-V3 (61 layers, 256 routed experts top-8, MLA): phantom (cost-only) runs only.
    case dsv3
    /// DeepSeek-V3's shapes with 8 layers (3 dense) for PP4 × EP16 × DP_replica 2 on 128 GPUs: phantom only.
    case dsv3Mini = "dsv3-mini"

    /// One line for help texts.
    public var summary: String {
        switch self {
        case .tiny: "8 layers (1 dense), hidden 16, 8 routed + 1 shared experts top-2, vocabulary 32"
        case .small: "4 layers (1 dense), hidden 256, 16 routed + 1 shared experts top-2, vocabulary 1024"
        case .dsv3:
            "DeepSeek-V3: 61 layers (3 dense), hidden 7168, 256+1 experts top-8 in 4 of 8 groups, MLA (phantom only)"
        case .dsv3Mini:
            "DeepSeek-V3's shapes with 8 layers (3 dense), expert groups for EP16 on 2 nodes (phantom only)"
        }
    }

    /// The model shape.
    public var config: MoEConfig {
        switch self {
        case .tiny:
            MoEConfig(
                vocabularySize: 32, hiddenSize: 16, layerCount: 8, headCount: 2, routedExpertCount: 8,
                sharedExpertCount: 1, topK: 2, expertWidth: 8, denseWidth: 32, denseLayerCount: 1, gateKind: .sigmoid)
        case .small:
            MoEConfig(
                vocabularySize: 1024, hiddenSize: 256, layerCount: 4, headCount: 4, routedExpertCount: 16,
                sharedExpertCount: 1, topK: 2, expertWidth: 256, denseWidth: 1024, denseLayerCount: 1,
                gateKind: .sigmoid)
        case .dsv3: .deepSeekV3
        case .dsv3Mini: Self.deepSeekV3Mini
        }
    }

    /// DeepSeek-V3 cut to 8 layers (the first 3 dense), one expert group per node of its EP16 group (2 nodes);
    /// the node limit M = 4 does not bind on 2 nodes.
    static let deepSeekV3Mini: MoEConfig = {
        var config = MoEConfig.deepSeekV3
        config.layerCount = 8
        config.expertGroupCount = 2
        config.expertGroupLimit = nil
        return config
    }()

    /// Whether the preset exists only as shapes (no real parameters can be built for it).
    public var isPhantomOnly: Bool { self == .dsv3 || self == .dsv3Mini }

    /// The training step the preset stands for (layout, batch, precisions); nil for the test models.
    public var stepDefaults: TrainingStepDefaults? {
        switch self {
        case .tiny, .small: nil
        case .dsv3: .deepSeekV3
        case .dsv3Mini: .deepSeekV3Mini
        }
    }

    /// Tokens per sequence of one training sample.
    public var sequenceLength: Int {
        switch self {
        case .tiny: 8
        case .small: 128
        case .dsv3, .dsv3Mini: 4096
        }
    }

    /// Sequences in one micro-batch.
    public var sequencesPerMicroBatch: Int {
        switch self {
        case .tiny: 2
        case .small: 4
        case .dsv3, .dsv3Mini: 1
        }
    }

    /// The preset's config with `layers` layers instead of its own count (nil keeps it); dense layers are
    /// capped at the new count. Throws naming an invalid count.
    public func config(layers: Int?) throws -> MoEConfig {
        var result = config
        if let layers {
            guard layers >= 1 else { throw ModelError.invalidConfig("layers = \(layers) must be at least 1") }
            result.layerCount = layers
            result.denseLayerCount = min(result.denseLayerCount, layers)
        }
        try result.validate()
        return result
    }
}
