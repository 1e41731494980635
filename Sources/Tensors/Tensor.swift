/// A tensor: a shape, a dtype, and either real values (Float32 in memory) or phantom storage (shape only).
///
/// A value type; the values array is copy-on-write, so copies are cheap until one is mutated.
public struct Tensor: Sendable, Equatable {
    /// Where the elements live: real Float32 values, or nowhere (phantom: only the shape is known).
    public enum Storage: Sendable, Equatable {
        case real([Float])
        case phantom
    }

    /// Why a tensor cannot be made.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case valueCountMismatch(shape: [Int], expected: Int, actual: Int)
        case negativeDimension(shape: [Int])

        public var description: String {
            switch self {
            case .valueCountMismatch(let shape, let expected, let actual):
                "shape \(shape) needs \(expected) values, got \(actual)"
            case .negativeDimension(let shape):
                "shape \(shape) has a negative dimension"
            }
        }
    }

    /// The size of each dimension, outermost first.
    public let shape: [Int]
    /// The element type on the wire and in HBM.
    public let dtype: DType
    /// Real values or phantom.
    public let storage: Storage

    /// A real tensor holding `values` in row-major order; throws when the count does not match the shape.
    public init(shape: [Int], dtype: DType, values: [Float]) throws {
        let count = try Tensor.elementCount(of: shape)
        guard values.count == count else {
            throw Error.valueCountMismatch(shape: shape, expected: count, actual: values.count)
        }
        self.shape = shape
        self.dtype = dtype
        self.storage = .real(values)
    }

    private init(phantomShape shape: [Int], dtype: DType) {
        self.shape = shape
        self.dtype = dtype
        self.storage = .phantom
    }

    /// A phantom tensor: shape and dtype only, no value storage; throws on a negative dimension.
    public static func phantom(shape: [Int], dtype: DType) throws -> Tensor {
        _ = try elementCount(of: shape)
        return Tensor(phantomShape: shape, dtype: dtype)
    }

    /// Whether the tensor has no values (shape only).
    public var isPhantom: Bool { storage == .phantom }

    /// The number of elements the shape describes.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes on the wire and in HBM: elements times the dtype's size.
    public var byteCount: Int { elementCount * dtype.bytesPerElement }

    /// The values in row-major order, or nil for a phantom tensor.
    public var values: [Float]? {
        if case .real(let values) = storage { return values }
        return nil
    }

    private static func elementCount(of shape: [Int]) throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw Error.negativeDimension(shape: shape) }
        return shape.reduce(1, *)
    }
}
