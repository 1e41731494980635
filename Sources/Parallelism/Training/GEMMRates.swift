/// Which GEMM throughput kernels are charged at: DeepGEMM's published figures where they exist, or the
/// datasheet peak everywhere.
public enum GEMMRates: String, Sendable, Hashable, CaseIterable {
    /// `PublishedGEMMRates` where a figure is published (FP8 on an H800, DeepSeek-V3's shapes), else the peak.
    case published
    /// The datasheet peak for every GEMM (efficiency 1).
    case peak
}
