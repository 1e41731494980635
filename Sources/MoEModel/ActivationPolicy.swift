/// Which activations one micro-batch keeps in HBM from its forward (F) until its weight gradients (W), in which
/// format, and what its backward recomputes instead.
///
/// - `full`: every op's input and output in the model dtype, nothing recomputed (the estimate the cost model
///   always made: element-wise intermediates such as the SwiGLU product or the softmax statistics are not
///   counted).
/// - `deepseek`: DeepSeek-V3's recipe (report arXiv 2412.19437v2): §3.2.3 "Recomputation of RMSNorm and MLA
///   Up-Projection" (their outputs are not stored; the backward recomputes them), §3.3.3 "Low-Precision
///   Activation" (the Linear operators' inputs cached in FP8 with 1×128 tiles; the input of the Linear after
///   the attention operator in E5M6; the SwiGLU inputs in MoE cached in FP8 and the SwiGLU output recomputed).
///   The per-op formulas are `CostModel.cachedActivationBytesPerToken(_:)`; the recomputed up-projections are
///   charged in B (`CostModel.recomputeFLOPs`).
public enum ActivationPolicy: String, Sendable, CaseIterable {
    /// Every op's input and output in the model dtype, nothing recomputed.
    case full
    /// DeepSeek-V3's recomputation and low-precision activation caching.
    case deepseek
}
