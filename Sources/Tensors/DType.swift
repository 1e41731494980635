/// The element type of a tensor on the wire and in HBM; values are always held as Float32 in memory.
public enum DType: String, Sendable, CaseIterable {
    case fp32
    case bf16
    case fp16
    case fp8e4m3

    /// Bytes one element occupies on the wire and in HBM.
    public var bytesPerElement: Int {
        switch self {
        case .fp32: 4
        case .bf16, .fp16: 2
        case .fp8e4m3: 1
        }
    }
}
