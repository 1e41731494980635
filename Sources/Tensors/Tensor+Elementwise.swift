import Foundation

extension Tensor {
    /// A result of `shape`: phantom when any operand is phantom, otherwise the values `compute` derives from theirs.
    static func result(
        shape: [Int], dtype: DType, operands: [Tensor], compute: ([[Float]]) throws -> [Float]
    ) rethrows -> Tensor {
        var inputs: [[Float]] = []
        for operand in operands {
            guard case .real(let values) = operand.storage else {
                return Tensor(validShape: shape, storage: .phantom, dtype: dtype)
            }
            inputs.append(values)
        }
        return Tensor(validShape: shape, storage: .real(try compute(inputs)), dtype: dtype)
    }

    /// Combines equal-shaped tensors element by element.
    func zipped(with other: Tensor, operation: String, _ combine: (Float, Float) -> Float) throws -> Tensor {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch(operation: operation, shapes: [shape, other.shape])
        }
        return Self.result(shape: shape, dtype: dtype, operands: [self, other]) { inputs in
            zip(inputs[0], inputs[1]).map(combine)
        }
    }

    /// Element-wise sum; shapes must be equal.
    public func adding(_ other: Tensor) throws -> Tensor {
        try zipped(with: other, operation: "add", +)
    }

    /// Element-wise difference; shapes must be equal.
    public func subtracting(_ other: Tensor) throws -> Tensor {
        try zipped(with: other, operation: "subtract", -)
    }

    /// Element-wise (Hadamard) product; shapes must be equal.
    public func multiplying(_ other: Tensor) throws -> Tensor {
        try zipped(with: other, operation: "multiply", *)
    }

    /// Every element passed through `transform`.
    public func mapped(_ transform: (Float) -> Float) -> Tensor {
        Self.result(shape: shape, dtype: dtype, operands: [self]) { $0[0].map(transform) }
    }

    /// Every element multiplied by `factor`.
    public func scaled(by factor: Float) -> Tensor {
        mapped { $0 * factor }
    }

    /// The logistic function 1 / (1 + e^-x) per element.
    public func sigmoid() -> Tensor {
        mapped(Self.sigmoid)
    }

    /// SiLU (swish) x * sigmoid(x) per element.
    public func silu() -> Tensor {
        mapped { $0 * Self.sigmoid($0) }
    }

    /// The derivative of SiLU at each element: s * (1 + x * (1 - s)) with s = sigmoid(x).
    public func siluDerivative() -> Tensor {
        mapped { x in
            let s = Self.sigmoid(x)
            return s * (1 + x * (1 - s))
        }
    }

    /// Each entry along the last dimension multiplied by the matching element of `vector` (broadcast over rows).
    public func multiplyingLastDimension(by vector: Tensor) throws -> Tensor {
        guard vector.rank == 1, let width = shape.last, vector.shape[0] == width else {
            throw TensorError.shapeMismatch(operation: "multiplyLastDimension", shapes: [shape, vector.shape])
        }
        return Self.result(shape: shape, dtype: dtype, operands: [self, vector]) { inputs in
            let scale = inputs[1]
            return inputs[0].enumerated().map { index, value in value * scale[index % width] }
        }
    }

    /// Sums over all but the last dimension, in ascending row order: the result has shape [last dimension].
    public func sumOverRows() throws -> Tensor {
        guard let width = shape.last, width > 0 else {
            throw TensorError.invalidArgument(operation: "sumOverRows", detail: "shape \(shape) has no last dimension")
        }
        return Self.result(shape: [width], dtype: dtype, operands: [self]) { inputs in
            var sums = [Float](repeating: 0, count: width)
            for (index, value) in inputs[0].enumerated() { sums[index % width] += value }
            return sums
        }
    }

    /// Sum of all elements in row-major order (a Float, so a phantom tensor throws).
    public func sum() throws -> Float {
        try scalars().reduce(0, +)
    }

    static func sigmoid(_ x: Float) -> Float {
        1 / (1 + Foundation.exp(-x))
    }
}
