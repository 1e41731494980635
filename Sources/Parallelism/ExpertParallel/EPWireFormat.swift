/// Bytes one token costs on each hop of the expert-parallel layer, as DeepSeek sends them (values stay Float).
///
/// Dispatch FP8: `hidden` bytes of e4m3 values, one 4-byte FP32 scale per 128 values and `metadataBytes` of
/// routing metadata (top-k indices and weights, source index) per token and target; combine, and both gradient
/// directions, BF16: 2 × hidden per token and target. A target is a node on an IB hop and a GPU on an NVLink hop.
public struct EPWireFormat: Sendable, Hashable {
    /// Width of a token row.
    public let hiddenSize: Int
    /// Whether dispatch sends FP8 with per-128 scales (else BF16).
    public let fp8Dispatch: Bool
    /// Routing metadata bytes per dispatched token and target.
    public let metadataBytes: Int

    /// The largest hidden size accepted (a sanity bound on the byte arithmetic).
    public static let maxHiddenSize = 1 << 20

    /// Refuses a hidden size outside 1...2^20, or not a multiple of 128 when FP8 scales are requested.
    public init(hiddenSize: Int, fp8Dispatch: Bool = true, metadataBytes: Int = 16) throws {
        guard (1...Self.maxHiddenSize).contains(hiddenSize) else {
            throw ExpertParallelError.invalid("hidden", "\(hiddenSize)", "must be in 1...\(Self.maxHiddenSize)")
        }
        guard !fp8Dispatch || hiddenSize % 128 == 0 else {
            throw ExpertParallelError.invalid(
                "hidden", "\(hiddenSize)",
                "FP8 dispatch scales blocks of 128 values: use a multiple of 128 or BF16 dispatch (dispatch=bf16)")
        }
        guard (0...4096).contains(metadataBytes) else {
            throw ExpertParallelError.invalid("metadata bytes", "\(metadataBytes)", "must be in 0...4096")
        }
        self.hiddenSize = hiddenSize
        self.fp8Dispatch = fp8Dispatch
        self.metadataBytes = metadataBytes
    }

    /// Dispatch bytes per token and target: hidden + 4 · hidden / 128 + metadata (FP8), or 2 · hidden + metadata.
    public var dispatchBytesPerToken: Int {
        (fp8Dispatch ? hiddenSize + 4 * (hiddenSize / 128) : 2 * hiddenSize) + metadataBytes
    }

    /// Combine and gradient bytes per token and target: BF16 rows.
    public var bf16BytesPerToken: Int { 2 * hiddenSize }

    /// The token row DeepEP's tests count for bandwidth: hidden × 2 × (1 + 4/128) / 2 bytes for FP8 (no
    /// metadata), 2 × hidden for BF16.
    public var deepEPDispatchBytesPerToken: Double {
        fp8Dispatch ? Double(hiddenSize) * (1 + 4.0 / 128) : Double(2 * hiddenSize)
    }
}
