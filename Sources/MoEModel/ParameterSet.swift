import Tensors

/// A tensor with the name that addresses it in a `ParameterSet`.
public struct NamedTensor: Sendable, Equatable {
    /// The address, e.g. `layers.1.moe.experts.3.w_up`.
    public var name: String
    /// The values.
    public var tensor: Tensor

    /// Pairs a name with a tensor.
    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// Named tensors in a fixed order: model parameters, or gradients laid out like them.
///
/// The order is the canonical flattening order (ZeRO-1 shards the flat vector); lookups by name use an index
/// that is never iterated.
public struct ParameterSet: Sendable, Equatable {
    /// The tensors in canonical order.
    public private(set) var entries: [NamedTensor] = []
    private var positions: [String: Int] = [:]  // lookup only, never iterated

    /// An empty set.
    public init() {}

    /// Appends a tensor under a name not used yet.
    public mutating func append(_ name: String, _ tensor: Tensor) throws {
        guard positions[name] == nil else { throw ModelError.duplicateParameter(name) }
        positions[name] = entries.count
        entries.append(NamedTensor(name: name, tensor: tensor))
    }

    /// The tensor called `name`.
    public func tensor(_ name: String) throws -> Tensor {
        entries[try position(of: name)].tensor
    }

    /// Replaces the tensor called `name` by one of the same shape.
    public mutating func update(_ name: String, to tensor: Tensor) throws {
        let index = try position(of: name)
        guard entries[index].tensor.shape == tensor.shape else {
            throw TensorError.shapeMismatch(
                operation: "update \(name)", shapes: [entries[index].tensor.shape, tensor.shape])
        }
        entries[index].tensor = tensor
    }

    /// Adds `gradient` to the tensor called `name`.
    public mutating func accumulate(_ name: String, _ gradient: Tensor) throws {
        let index = try position(of: name)
        entries[index].tensor = try entries[index].tensor.adding(gradient)
    }

    /// Whether a tensor is called `name`.
    public func contains(_ name: String) -> Bool {
        positions[name] != nil
    }

    /// Total number of elements over all tensors.
    public var elementCount: Int { entries.reduce(0) { $0 + $1.tensor.elementCount } }

    /// Same names and shapes, all values zero.
    public func zeros() throws -> ParameterSet {
        try mapTensors { try Tensor(zeros: $0.shape, dtype: $0.dtype) }
    }

    /// Every tensor multiplied by `factor`.
    public func scaled(by factor: Float) throws -> ParameterSet {
        try mapTensors { $0.scaled(by: factor) }
    }

    /// All values concatenated in canonical order.
    public func flattened() throws -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(elementCount)
        for entry in entries { flat.append(contentsOf: try entry.tensor.scalars()) }
        return flat
    }

    /// Same names and shapes with values taken in canonical order from `flat`, which must match in length.
    public func unflattened(_ flat: [Float]) throws -> ParameterSet {
        guard flat.count == elementCount else {
            throw TensorError.shapeMismatch(operation: "unflatten", shapes: [[elementCount], [flat.count]])
        }
        var offset = 0
        return try mapTensors { tensor in
            defer { offset += tensor.elementCount }
            return try Tensor(
                shape: tensor.shape, values: Array(flat[offset..<(offset + tensor.elementCount)]), dtype: tensor.dtype)
        }
    }

    private func mapTensors(_ transform: (Tensor) throws -> Tensor) throws -> ParameterSet {
        var result = ParameterSet()
        for entry in entries { try result.append(entry.name, transform(entry.tensor)) }
        return result
    }

    private func position(of name: String) throws -> Int {
        guard let index = positions[name] else { throw ModelError.unknownParameter(name) }
        return index
    }
}
