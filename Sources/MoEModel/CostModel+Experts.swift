import Tensors

extension CostModel {
    /// The cost of one SwiGLU expert (three linear maps, hidden → width → hidden) applied to `rows` rows: what an
    /// expert-parallel rank charges for the rows it actually received.
    public static func swiGLUExpert(
        name: String, rows: Int, hiddenSize: Int, width: Int, dtype: DType = .bf16, kind: OpKind = .routedExperts
    ) -> OpCost {
        let shapes = [(hiddenSize, width), (hiddenSize, width), (width, hiddenSize)]
        let weights = shapes.reduce(0) { $0 + $1.0 * $1.1 }
        let flops = shapes.reduce(0) { $0 + Tensor.matmulFLOPs(m: rows, k: $1.0, n: $1.1) }
        let bytes = dtype.bytesPerElement
        return OpCost(
            name: name, kind: kind, parameterCount: weights, forwardFLOPs: flops, backwardInputFLOPs: flops,
            backwardWeightFLOPs: flops, parameterBytes: weights * bytes, inputBytes: rows * hiddenSize * bytes,
            outputBytes: rows * hiddenSize * bytes)
    }
}
