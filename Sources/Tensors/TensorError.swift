/// Why a tensor operation refused its inputs.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// The operands' shapes do not fit the operation.
    case shapeMismatch(operation: String, shapes: [[Int]])
    /// A shape has a negative dimension or does not match the number of values given.
    case invalidShape(shape: [Int], valueCount: Int)
    /// The operation needs element values but a phantom tensor has none.
    case phantomValues(operation: String, shape: [Int])
    /// An argument other than a shape is out of range.
    case invalidArgument(operation: String, detail: String)

    public var description: String {
        switch self {
        case .shapeMismatch(let operation, let shapes):
            "\(operation): incompatible shapes \(shapes.map { "\($0)" }.joined(separator: ", "))"
        case .invalidShape(let shape, let valueCount):
            "invalid shape \(shape) for \(valueCount) values"
        case .phantomValues(let operation, let shape):
            "\(operation): phantom tensor of shape \(shape) has no values"
        case .invalidArgument(let operation, let detail):
            "\(operation): \(detail)"
        }
    }
}
