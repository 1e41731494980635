import SimCore
import Tensors

/// One collective's size, time and nccl-tests bandwidths.
public struct CollectiveResult: Sendable {
    /// The collective that ran.
    public let kind: CollectiveKind
    /// How it moved its data.
    public let algorithm: CollectiveAlgorithm
    /// Ranks in the communicator.
    public let rankCount: Int
    /// nccl-tests' size S in bytes (see `CollectiveKind.sizeMeaning`).
    public let sizeBytes: Int
    /// S in elements of `dtype` (nccl-tests' "count").
    public let elementCount: Int
    /// The element type on the wire.
    public let dtype: DType
    /// Virtual time from the start until the last rank finished.
    public let time: SimDuration
    /// Flat outputs by rank (phantom unless run on real values).
    public let outputs: [Tensor]

    /// A result of `kind` on `rankCount` ranks with size S = `sizeBytes` that took `time`.
    public init(
        kind: CollectiveKind, algorithm: CollectiveAlgorithm, rankCount: Int, sizeBytes: Int, elementCount: Int,
        dtype: DType, time: SimDuration, outputs: [Tensor]
    ) {
        self.kind = kind
        self.algorithm = algorithm
        self.rankCount = rankCount
        self.sizeBytes = sizeBytes
        self.elementCount = elementCount
        self.dtype = dtype
        self.time = time
        self.outputs = outputs
    }

    /// algbw = S / time in bytes per second (0 when no time passed).
    public var algbwBytesPerSecond: Double {
        time.nanoseconds > 0 ? Double(sizeBytes) / time.seconds : 0
    }

    /// busbw = algbw × the kind's nccl-tests factor.
    public var busbwBytesPerSecond: Double {
        algbwBytesPerSecond * kind.busBandwidthFactor(rankCount: rankCount)
    }
}
