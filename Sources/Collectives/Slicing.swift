import Tensors

/// How many messages one logical block is cut into, so that big transfers pipeline through the fabric.
///
/// A message crosses each hop in chunks (the cluster's `minChunkBytes` and `maxChunksPerMessage`) and pays a
/// store-and-forward fill of one chunk per extra hop. Slices sent together share the links chunk by chunk, so
/// cutting a block into s slices cuts that fill by up to s, as NCCL's slices do; within a ring step they all
/// arrive together.
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
