import Hardware

/// DeepSeek-V4's balance rule (§3.1): a token-expert pair costs 6·h·d FLOPs against 3·h bytes (FP8 dispatch,
/// BF16 combine), so communication hides behind compute when peak FLOP/s ÷ bytes/s <= 2·d FLOPs per byte.
public struct EPBalanceRule: Sendable, Hashable, CustomStringConvertible {
    /// Peak expert GEMM rate over the bottleneck link's one-way bandwidth, FLOPs per byte.
    public let flopsPerByte: Double
    /// 2·d: the FLOPs per byte one token-expert pair brings.
    public let thresholdFlopsPerByte: Double
    /// The link the ratio used ("NVLink" or "IB").
    public let link: String

    /// The rule for experts of width `expertWidth` in `precision` on `gpu`, across IB when `internode`.
    public init(gpu: GPUSpec, precision: ExpertPrecision, expertWidth: Int, internode: Bool) {
        let rate = gpu.flopsPerSecondPerSM(precision.kernelPrecision) * Double(gpu.smCount)
        let bandwidth = internode ? gpu.nicBytesPerSecond : gpu.nvlinkBytesPerSecond
        flopsPerByte = rate / bandwidth
        thresholdFlopsPerByte = 2 * Double(expertWidth)
        link = internode ? "IB" : "NVLink"
    }

    /// Whether communication can be fully hidden (compute per byte at least the hardware's ratio).
    public var communicationHidden: Bool { flopsPerByte <= thresholdFlopsPerByte }

    /// "C/B = 6250 FLOP/byte (NVLink) vs 2·d = 4096: communication cannot be fully hidden".
    public var description: String {
        "C/B = \(Int(flopsPerByte.rounded())) FLOP/byte (\(link)) vs 2·d = \(Int(thresholdFlopsPerByte)): "
            + (communicationHidden ? "communication can be fully hidden" : "communication cannot be fully hidden")
    }
}
