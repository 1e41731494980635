import Tensors

/// The activation bytes one micro-batch keeps from its F until its W, and the FLOPs its B spends recomputing
/// what was not kept, under the cost model's `ActivationPolicy`.
///
/// `.deepseek`, per token (h hidden, H heads, E routed experts, k top-k, s shared experts, I expert width, D dense
/// width, V vocabulary, MLA ranks r_q, r_kv, head dimensions d_nope, d_rope, d_v; b(n) = n values in the model
/// dtype, f8(n) = FP8 row, e56(n) = E5M6 row, see `fp8RowBytes` and `e5m6RowBytes`):
/// - embedding: 4 (the token id; its output is layer 0's norm input, counted there);
/// - attention (MLA): b(h) norm input + b(r_q) + b(r_kv + d_rope) latent norm inputs (norm outputs and
///   up-projections recomputed) + e56(H d_v) the input of the output projection (also the attention core's
///   output for its backward) + 4 H (FP32 log-sum-exp per head, FlashAttention-2's backward statistics);
///   multi-head attention: b(h) + b(3 h) (Q, K, V: projection outputs, not recomputed) + e56(h) + 4 H;
/// - dense FFN: b(h) norm input + b(2 D) the SwiGLU input (the recompute rule is stated for MoE only) + f8(D)
///   the second Linear's input;
/// - gate: b(h) the FFN norm input + b(E) the scores (the gate stays in higher precision);
/// - routed experts, k rows: f8(h) the dispatched input of Linear-1 + f8(2 I) the SwiGLU input + 4 (FP32
///   routing weight; the expert output is not kept: the weight's gradient is ⟨W₂ᵀ dy, SwiGLU output⟩, as
///   Megatron-LM applies the probabilities inside the activation);
/// - shared experts, s rows: f8(2 I) the SwiGLU input (their input is the recomputed FFN norm output);
/// - dispatch, combine: 0; head: b(h) final norm input + b(V) the logits for the loss backward.
extension CostModel {
    /// Bytes of a row of `width` values cached in FP8 (E4M3) with 1×128 tiles: a byte per value and a 4-byte
    /// (FP32) scale per 128 values, as the FP8 dispatch payload is counted.
    public static func fp8RowBytes(_ width: Int) -> Int { width + scaleBytes(width) }

    /// Bytes of a row of `width` values in DeepSeek-V3's E5M6 (1 sign, 5 exponent, 6 mantissa bits: 1.5 bytes
    /// per value) with FP8's 1×128 scales (the report says the scales are powers of 2, not how they are stored).
    public static func e5m6RowBytes(_ width: Int) -> Int { (3 * width + 1) / 2 + scaleBytes(width) }

    private static func scaleBytes(_ width: Int) -> Int { 4 * ((width + 127) / 128) }

    /// The bytes `op` (one of this model's ops) keeps from F to W: its input and output (`.full`), or tokens ×
    /// `cachedActivationBytesPerToken(op.kind)` (`.deepseek`).
    public func cachedActivationBytes(of op: OpCost) -> Int {
        switch activations {
        case .full: op.inputBytes + op.outputBytes
        case .deepseek: tokens * cachedActivationBytesPerToken(op.kind)
        }
    }

    /// `.deepseek`'s cached bytes per token of an op of `kind` (the formulas in the type's documentation).
    public func cachedActivationBytesPerToken(_ kind: OpKind) -> Int {
        let hidden = config.hiddenSize
        let heads = config.headCount
        let expert = config.expertWidth
        switch kind {
        case .embedding: return 4
        case .attention:
            let statistics = 4 * heads
            switch config.attention {
            case .multiHead:
                return bytes(hidden) + bytes(3 * hidden) + Self.e5m6RowBytes(hidden) + statistics
            case .multiLatent(let mla):
                return bytes(hidden) + bytes(mla.queryLoraRank) + bytes(mla.keyValueLoraRank + mla.ropeHeadDimension)
                    + Self.e5m6RowBytes(heads * mla.valueHeadDimension) + statistics
            }
        case .denseFFN:
            return bytes(hidden) + bytes(2 * config.denseWidth) + Self.fp8RowBytes(config.denseWidth)
        case .gate: return bytes(hidden) + bytes(config.routedExpertCount)
        case .routedExperts: return config.topK * (Self.fp8RowBytes(hidden) + Self.fp8RowBytes(2 * expert) + 4)
        case .sharedExperts: return config.sharedExpertCount * Self.fp8RowBytes(2 * expert)
        case .dispatch, .combine: return 0
        case .head: return bytes(hidden) + bytes(config.vocabularySize)
        }
    }

    /// FLOPs B adds per layer to recompute what F did not keep: under `.deepseek` with MLA the two
    /// up-projections, 2 T (r_q · H (d_nope + d_rope) + r_kv · H (d_nope + d_v)); RMSNorm and SwiGLU
    /// recomputation is element-wise, which the cost model does not count (0 FLOPs). Zero under `.full`.
    var attentionRecomputeFLOPs: Int {
        guard activations == .deepseek, case .multiLatent(let mla) = config.attention else { return 0 }
        let heads = config.headCount
        return Tensor.matmulFLOPs(
            m: tokens, k: mla.queryLoraRank, n: heads * (mla.nopeHeadDimension + mla.ropeHeadDimension))
            + Tensor.matmulFLOPs(
                m: tokens, k: mla.keyValueLoraRank, n: heads * (mla.nopeHeadDimension + mla.valueHeadDimension))
    }

    /// B's recomputation FLOPs of one micro-batch through the whole model (not model FLOPs: MFU leaves them out).
    public var recomputeFLOPs: Int { ops.reduce(0) { $0 + $1.backwardInputRecomputeFLOPs } }
}
