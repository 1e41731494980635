import Tensors

/// The block cut at its FFN, so the FFN can run elsewhere (an expert-parallel layer across GPUs): the attention
/// half before it and the residual after it, forward and backward.
extension TransformerBlock {
    /// What the attention half keeps for its backward pass.
    public struct AttentionCache: Sendable {
        public var attentionNorm: RMSNormLayer.Cache
        public var attention: AttentionLayer.Cache
        public var ffnNorm: RMSNormLayer.Cache
    }

    /// The attention half's result: the FFN's input, and what the block's output adds the FFN's output to.
    public struct AttentionHalf: Sendable {
        /// h = x + Attention(Norm(x)).
        public var residual: Tensor
        /// Norm(h), the FFN's input.
        public var ffnInput: Tensor
        public var cache: AttentionCache

        /// The block's output y = h + `ffnOutput`.
        public func output(adding ffnOutput: Tensor) throws -> Tensor { try residual.adding(ffnOutput) }
    }

    /// F up to the FFN: the pre-norm, attention, residual and the FFN's pre-norm.
    public func forwardAttention(
        _ input: Tensor, sequenceLength: Int, parameters: ParameterSet
    ) throws -> AttentionHalf {
        let (normalized, attentionNormCache) = try attentionNorm.forward(input, parameters: parameters)
        let (attended, attentionCache) = try attention.forward(
            normalized, sequenceLength: sequenceLength, parameters: parameters)
        let residual = try input.adding(attended)
        let (ffnInput, ffnNormCache) = try ffnNorm.forward(residual, parameters: parameters)
        return AttentionHalf(
            residual: residual, ffnInput: ffnInput,
            cache: AttentionCache(attentionNorm: attentionNormCache, attention: attentionCache, ffnNorm: ffnNormCache))
    }

    /// B from the FFN down: `feedForward` is the FFN's B (its input gradient and W tasks) for the block's
    /// `outputGradient`; returns the block input's gradient with every W task of the block, FFN's first.
    public func backwardAttention(
        _ outputGradient: Tensor, feedForward ffn: InputBackward, cache: AttentionCache, parameters: ParameterSet
    ) throws -> InputBackward {
        let ffnNormBackward = try ffnNorm.backwardInput(ffn.inputGradient, cache: cache.ffnNorm, parameters: parameters)
        let residualGradient = try outputGradient.adding(ffnNormBackward.inputGradient)
        let attentionBackward = try attention.backwardInput(
            residualGradient, cache: cache.attention, parameters: parameters)
        let attentionNormBackward = try attentionNorm.backwardInput(
            attentionBackward.inputGradient, cache: cache.attentionNorm, parameters: parameters)
        let tasks =
            ffn.weightTasks + ffnNormBackward.weightTasks + attentionBackward.weightTasks
            + attentionNormBackward.weightTasks
        return InputBackward(
            inputGradient: try residualGradient.adding(attentionNormBackward.inputGradient), weightTasks: tasks)
    }
}
