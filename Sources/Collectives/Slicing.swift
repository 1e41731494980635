import Tensors

/// How many messages one logical block is cut into, so that big transfers pipeline through the fabric.
///
/// A message crosses each hop in at most a few chunks (the cluster's `maxChunksPerMessage`), so a single big
/// message pays a store-and-forward fill of a quarter of its time per extra hop. Sending a block as s
/// concurrent messages shrinks that fill s-fold, as NCCL's slices do.
public struct Slicing: Sendable, Equatable {
    /// Bytes per element of the data being sliced.
    public var bytesPerElement: Int
    /// A block is cut only into slices of at least this many bytes.
    public var minSliceBytes: Int
    /// The most slices per block.
    public var maxSliceCount: Int

    /// Slicing of `dtype` data into slices of at least `minSliceBytes`, at most `maxSliceCount` of them.
    public init(dtype: DType, minSliceBytes: Int = 256 * 1024, maxSliceCount: Int = 16) {
        self.bytesPerElement = dtype.bytesPerElement
        self.minSliceBytes = max(1, minSliceBytes)
        self.maxSliceCount = max(1, maxSliceCount)
    }

    /// Every block travels as one message.
    public static let whole = Slicing(dtype: .fp8e4m3, minSliceBytes: Int.max, maxSliceCount: 1)

    /// The number of slices for a block of `elements`.
    public func sliceCount(elements: Int) -> Int {
        min(maxSliceCount, max(1, elements * bytesPerElement / minSliceBytes))
    }
}
