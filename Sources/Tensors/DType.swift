/// The element type a tensor has on the wire and in HBM; values are always held as Float32 in memory.
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case fp32
    case bf16
    case fp16
    case fp8e4m3

    /// Bytes one element occupies when stored or sent in this dtype.
    public var bytesPerElement: Int {
        switch self {
        case .fp32: 4
        case .bf16, .fp16: 2
        case .fp8e4m3: 1
        }
    }

    public var description: String { rawValue }
}
