/// Attention and MoE ops of the cost model.
extension CostModel {
    /// Attention with its pre-norm: projections (linear costs) plus the causal core (scores and weighted sum).
    ///
    /// Core FLOPs per head: F = 2 P (qk + v) for Q K^T and P V; B = 2 F (dP, dV, dQ, dK); W = 0.
    func attentionOp(name: String) -> OpCost {
        let hidden = config.hiddenSize
        let heads = config.headCount
        var op: OpCost
        let (queryKeyWidth, valueWidth): (Int, Int)
        switch config.attention {
        case .multiHead:
            op = linearsOp(
                name: name, kind: .attention, rows: tokens, shapes: Array(repeating: (hidden, hidden), count: 4),
                extraParameters: hidden)
            (queryKeyWidth, valueWidth) = (config.headDimension, config.headDimension)
        case .multiLatent(let mla):
            let queryWidth = mla.nopeHeadDimension + mla.ropeHeadDimension
            let shapes = [
                (hidden, mla.queryLoraRank), (mla.queryLoraRank, heads * queryWidth),
                (hidden, mla.keyValueLoraRank + mla.ropeHeadDimension),
                (mla.keyValueLoraRank, heads * (mla.nopeHeadDimension + mla.valueHeadDimension)),
                (heads * mla.valueHeadDimension, hidden),
            ]
            // Norms: the layer's attention norm and MLA's query and key-value latent norms.
            op = linearsOp(
                name: name, kind: .attention, rows: tokens, shapes: shapes,
                extraParameters: hidden + mla.queryLoraRank + mla.keyValueLoraRank)
            (queryKeyWidth, valueWidth) = (queryWidth, mla.valueHeadDimension)
        }
        let core = 2 * causalPairs * heads * (queryKeyWidth + valueWidth)
        op.forwardFLOPs += core
        op.backwardInputFLOPs += 2 * core
        op.forwardAttentionCoreFLOPs = core
        op.backwardInputAttentionCoreFLOPs = 2 * core
        op.outputBytes = bytes(tokens * hidden)
        // `.deepseek` recomputes the MLA up-projections in B (linear GEMMs: at the linear layers' precision).
        let recompute = attentionRecomputeFLOPs
        op.backwardInputFLOPs += recompute
        op.backwardInputRecomputeFLOPs = recompute
        return op
    }

    /// Gate (with the FFN pre-norm), dispatch, routed experts, combine and shared experts of an MoE layer.
    func moeOps(prefix: String) -> [OpCost] {
        let hidden = config.hiddenSize
        let routedRows = tokens * config.topK
        let gate = linearsOp(
            name: prefix + ".gate", kind: .gate, rows: tokens, shapes: [(hidden, config.routedExpertCount)],
            extraParameters: hidden)
        let expertShapes = swiGLUShapes(width: config.expertWidth)
        var routed = linearsOp(
            name: prefix + ".experts", kind: .routedExperts, rows: routedRows, shapes: expertShapes)
        // A token uses top-k of the E experts: k experts' parameters, exactly (not p k / E x E, which truncates).
        routed.activatedParameterCount *= config.topK
        routed.parameterCount *= config.routedExpertCount
        routed.parameterBytes *= config.routedExpertCount
        var shared = linearsOp(
            name: prefix + ".shared", kind: .sharedExperts, rows: tokens * config.sharedExpertCount,
            shapes: expertShapes)
        shared.parameterCount *= config.sharedExpertCount
        shared.activatedParameterCount *= config.sharedExpertCount
        shared.parameterBytes *= config.sharedExpertCount
        // Per routed row: FP8 hidden values, 4-byte scales per 128 values, 16 bytes of routing metadata.
        let dispatchBytes = routedRows * (hidden + 4 * ((hidden + 127) / 128) + 16)
        let bf16Rows = routedRows * hidden * 2
        let dispatch = OpCost(
            name: prefix + ".dispatch", kind: .dispatch, forwardCommunicationBytes: dispatchBytes,
            backwardCommunicationBytes: bf16Rows)
        let combine = OpCost(
            name: prefix + ".combine", kind: .combine, forwardCommunicationBytes: bf16Rows,
            backwardCommunicationBytes: bf16Rows)
        return [gate, dispatch, routed, combine, shared]
    }
}
