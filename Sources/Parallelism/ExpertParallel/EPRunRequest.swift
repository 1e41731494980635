import MoEModel
import Tensors

/// One expert-parallel layer run as the `moe` command and `moesim-bench ep` describe it: tokens per EP rank,
/// the layer's shape, routing and mode.
public struct EPRunRequest: Sendable, Hashable {
    /// Tokens on each EP rank (as DeepEP's tests count them).
    public var tokensPerRank: Int
    public var hiddenSize: Int
    /// Intermediate width of each expert.
    public var expertWidth: Int
    /// Routed experts.
    public var expertCount: Int
    public var topK: Int
    /// Nodes a token may reach (nil: every node of the group).
    public var nodeLimit: Int?
    public var sharedExpertCount = 0
    public var gate = GateKind.sigmoid
    /// Also run backward (B, then the W tasks).
    public var backward = false
    /// Real values checked against the single-device layer (else phantom tensors and the seeded random gate).
    public var real = false
    /// Seeds parameters, tokens and the phantom gate.
    public var seed: UInt64 = 0
    /// Layer knobs (skew, FP8, synchronised phases, pieces).
    public var options = ExpertParallelLayer.Options()

    /// A request; `validate(rankCount:nodeCount:)` checks it against a group.
    public init(tokensPerRank: Int, hiddenSize: Int, expertWidth: Int, expertCount: Int, topK: Int) {
        self.tokensPerRank = tokensPerRank
        self.hiddenSize = hiddenSize
        self.expertWidth = expertWidth
        self.expertCount = expertCount
        self.topK = topK
    }

    /// Most tokens per rank, hidden width, experts.
    public static let maxTokensPerRank = 1 << 16
    public static let maxExperts = 4096
    /// Most elements (tokens × hidden over the group, and expert weights) a real run may hold.
    public static let maxRealElements = 1 << 24

    /// Most routing work (ranks × tokens per rank × experts: the gate's scores, phantom or real) a run may take:
    /// twice DeepEP's EP64 table row (64 × 4096 × 256), so a mistyped shape is refused instead of hanging.
    public static let maxRoutingWork = 1 << 27

    /// Throws naming the first value that does not fit a group of `rankCount` ranks on `nodeCount` nodes.
    public func validate(rankCount: Int, nodeCount: Int) throws {
        func require(_ ok: Bool, _ name: String, _ value: Int, _ reason: String) throws {
            if !ok { throw ExpertParallelError.invalid(name, "\(value)", reason) }
        }
        try require(
            (1...Self.maxTokensPerRank).contains(tokensPerRank), "tokens", tokensPerRank,
            "must be in 1...\(Self.maxTokensPerRank) per rank")
        try require(
            (1...EPWireFormat.maxHiddenSize).contains(hiddenSize), "hidden", hiddenSize,
            "must be in 1...\(EPWireFormat.maxHiddenSize)")
        try require((1...65_536).contains(expertWidth), "expert-hidden", expertWidth, "must be in 1...65536")
        try require(
            (1...Self.maxExperts).contains(expertCount), "experts", expertCount,
            "must be in 1...\(Self.maxExperts)")
        try require(
            expertCount % rankCount == 0, "experts", expertCount,
            "must be divisible by the group size \(rankCount)")
        try require((1...expertCount).contains(topK), "topk", topK, "must be in 1...\(expertCount) (the experts)")
        if let nodeLimit {
            try require(
                (1...nodeCount).contains(nodeLimit), "node-limit", nodeLimit,
                "must be in 1...\(nodeCount) (the nodes of the group)")
            try require(
                topK <= nodeLimit * expertCount / nodeCount, "topk", topK,
                "exceeds the experts of \(nodeLimit) node(s) (\(nodeLimit * expertCount / nodeCount))")
        }
        guard (0...1).contains(options.skew) else {
            throw ExpertParallelError.invalid("skew", "\(options.skew)", "must be in 0...1")
        }
        try require((0...16).contains(sharedExpertCount), "shared", sharedExpertCount, "must be in 0...16")
        try require(
            rankCount <= ExpertParallelLayer.maxRanks, "group size", rankCount,
            "at most \(ExpertParallelLayer.maxRanks) ranks")
        try require(
            tokensPerRank * rankCount * expertCount <= Self.maxRoutingWork, "tokens", tokensPerRank,
            "ranks × tokens × experts (\(rankCount) × \(tokensPerRank) × \(expertCount)) must be at most "
                + "\(Self.maxRoutingWork)")
        if real {
            let elements = tokensPerRank * rankCount * hiddenSize
            try require(
                elements <= Self.maxRealElements, "tokens", tokensPerRank,
                "real runs hold at most \(Self.maxRealElements) token values (tokens × ranks × hidden); use phantom")
            let weights = (expertCount + sharedExpertCount) * 3 * hiddenSize * expertWidth
            try require(
                weights <= Self.maxRealElements, "experts", expertCount,
                "real runs hold at most \(Self.maxRealElements) expert weights; use phantom")
        }
        _ = try EPWireFormat(hiddenSize: hiddenSize, fp8Dispatch: options.fp8Dispatch)
    }

    /// The single-device layer config: one expert group per node when the node limit applies.
    public func config(nodeCount: Int) -> MoEConfig {
        var config = MoEConfig(
            vocabularySize: 2, hiddenSize: hiddenSize, layerCount: 1, headCount: 1, routedExpertCount: expertCount,
            sharedExpertCount: sharedExpertCount, topK: topK, expertWidth: expertWidth, denseWidth: expertWidth,
            denseLayerCount: 0, gateKind: gate)
        if let nodeLimit, nodeLimit < nodeCount {
            config.expertGroupCount = nodeCount
            config.expertGroupLimit = nodeLimit
        }
        return config
    }
}
