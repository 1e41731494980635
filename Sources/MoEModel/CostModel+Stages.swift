/// Costs of one pipeline stage (a layer range, with the embedding on the first and the head on the last).
extension CostModel {
    /// The ops of the stage running `layers`: the embedding if it starts at layer 0, each layer's ops, and the
    /// head if it ends at the last layer.
    public func stageOps(layers: Range<Int>) -> [OpCost] {
        let first = layers.lowerBound == 0 ? [embeddingOp] : []
        let last = layers.upperBound == config.layerCount ? [headOp] : []
        return first + layers.flatMap(layerOps) + last
    }

    /// Activation bytes one micro-batch keeps on the stage from its F until its W under `activations`: `.full`,
    /// every op's input and output in the model dtype (an estimate: element-wise intermediates are not
    /// counted); `.deepseek`, what DeepSeek-V3 keeps (`cachedActivationBytesPerToken`).
    public func stageActivationBytes(layers: Range<Int>) -> Int {
        stageOps(layers: layers).reduce(0) { $0 + cachedActivationBytes(of: $1) }
    }
}
