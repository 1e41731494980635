import Tensors

/// Parts of a parameter set picked by entry index, for optimizers that own only some of its tensors (ZeRO-1
/// over different groups for the experts and for the rest).
extension ParameterSet {
    /// Elements of the tensors at `indices`.
    public func elementCount(entries indices: [Int]) -> Int {
        indices.reduce(0) { $0 + entries[$1].tensor.elementCount }
    }

    /// The values of the tensors at `indices`, concatenated in that order.
    public func flattened(entries indices: [Int]) throws -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(elementCount(entries: indices))
        for index in indices { flat.append(contentsOf: try entries[index].tensor.scalars()) }
        return flat
    }

    /// The same set with the tensors at `indices` refilled, in that order, from `flat` (which must match in
    /// length); the other tensors are kept.
    public func unflattened(_ flat: [Float], entries indices: [Int]) throws -> ParameterSet {
        guard flat.count == elementCount(entries: indices) else {
            throw TensorError.shapeMismatch(
                operation: "unflatten entries", shapes: [[elementCount(entries: indices)], [flat.count]])
        }
        var result = self
        var offset = 0
        for index in indices {
            let tensor = entries[index].tensor
            try result.update(
                entries[index].name,
                to: Tensor(
                    shape: tensor.shape, values: Array(flat[offset..<(offset + tensor.elementCount)]),
                    dtype: tensor.dtype))
            offset += tensor.elementCount
        }
        return result
    }

    /// The entries whose names satisfy `isIncluded`, in canonical order.
    public func filtered(_ isIncluded: (String) -> Bool) throws -> ParameterSet {
        var result = ParameterSet()
        for entry in entries where isIncluded(entry.name) { try result.append(entry.name, entry.tensor) }
        return result
    }
}
