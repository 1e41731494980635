/// An n-dimensional row-major array of Float32 values, or a *phantom* that has a shape and a dtype but no values.
///
/// Tensors are values (the `[Float]` inside is copy-on-write). Math on a phantom operand checks shapes as usual
/// and returns a phantom result of the right shape, so cost-only runs can push shapes through the same code;
/// operations whose result is not a tensor (top-k, `scalars()`) throw `TensorError.phantomValues` instead.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// Where the elements live: real values, or none at all.
    public enum Storage: Sendable, Equatable {
        case real([Float])
        case phantom
    }

    /// Extent of each dimension, outermost (the batch dimension) first.
    public let shape: [Int]
    /// The dtype that sets the size on the wire and in HBM.
    public var dtype: DType
    /// The element values, or `.phantom`.
    public let storage: Storage

    /// A real tensor holding `values` in row-major order.
    public init(shape: [Int], values: [Float], dtype: DType = .fp32) throws {
        guard shape.allSatisfy({ $0 >= 0 }), Self.product(shape) == values.count else {
            throw TensorError.invalidShape(shape: shape, valueCount: values.count)
        }
        self.init(validShape: shape, storage: .real(values), dtype: dtype)
    }

    /// A real tensor of zeros.
    public init(zeros shape: [Int], dtype: DType = .fp32) throws {
        try self.init(repeating: 0, shape: shape, dtype: dtype)
    }

    /// A real tensor with every element equal to `value`.
    public init(repeating value: Float, shape: [Int], dtype: DType = .fp32) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.invalidShape(shape: shape, valueCount: 0) }
        self.init(validShape: shape, storage: .real(Array(repeating: value, count: Self.product(shape))), dtype: dtype)
    }

    /// A phantom tensor: shape and dtype only, nothing allocated.
    public init(phantom shape: [Int], dtype: DType = .fp32) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.invalidShape(shape: shape, valueCount: 0) }
        self.init(validShape: shape, storage: .phantom, dtype: dtype)
    }

    init(validShape shape: [Int], storage: Storage, dtype: DType) {
        self.shape = shape
        self.storage = storage
        self.dtype = dtype
    }

    /// Number of elements (the product of the shape).
    public var elementCount: Int { Self.product(shape) }

    /// Bytes the tensor occupies in its dtype.
    public var byteCount: Int { elementCount * dtype.bytesPerElement }

    /// Whether the tensor has a shape only.
    public var isPhantom: Bool { storage == .phantom }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Extent of the first (batch) dimension; 1 for a scalar.
    public var rowCount: Int { shape.first ?? 1 }

    /// Elements per entry of the first dimension.
    public var rowWidth: Int { Self.product(shape.dropFirst()) }

    /// The element values in row-major order; throws for a phantom tensor.
    public func scalars() throws -> [Float] {
        guard case .real(let values) = storage else {
            throw TensorError.phantomValues(operation: "scalars", shape: shape)
        }
        return values
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), Self.product(newShape) == elementCount else {
            throw TensorError.shapeMismatch(operation: "reshape", shapes: [shape, newShape])
        }
        return Tensor(validShape: newShape, storage: storage, dtype: dtype)
    }

    /// The same tensor labelled with another dtype (values unchanged, byte sizes follow the new dtype).
    public func withDType(_ newDType: DType) -> Tensor {
        Tensor(validShape: shape, storage: storage, dtype: newDType)
    }

    public var description: String {
        "Tensor(\(shape), \(dtype)\(isPhantom ? ", phantom" : ""))"
    }

    static func product(_ dimensions: some Sequence<Int>) -> Int {
        dimensions.reduce(1, *)
    }
}
