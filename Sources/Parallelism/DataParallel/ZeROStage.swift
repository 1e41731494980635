/// What ZeRO partitions over the data-parallel group (Rajbhandari et al., arXiv 1910.02054).
public enum ZeROStage: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Plain data parallel: every rank keeps everything and all-reduces gradients.
    case plain = 0
    /// P_os: optimizer state partitioned; one reduce-scatter of gradients and one all-gather of parameters.
    case optimizerStates = 1
    /// P_os+g: gradients partitioned too, reduce-scattered in buckets as the backward produces them.
    case gradients = 2
    /// P_os+g+p: parameters partitioned too, all-gathered per layer before its forward and its backward.
    case parameters = 3

    /// `zero=1`.
    public var description: String { "zero=\(rawValue)" }

    /// Whether rank r keeps only its shard of the optimizer state.
    public var shardsOptimizer: Bool { self != .plain }
    /// Whether rank r keeps only its shard of the gradients.
    public var shardsGradients: Bool { rawValue >= 2 }
    /// Whether rank r keeps only its shard of the parameters.
    public var shardsParameters: Bool { self == .parameters }
}
