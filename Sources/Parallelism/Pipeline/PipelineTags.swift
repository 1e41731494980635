/// Deterministic message tags of a pipeline run: one per transfer of a step, one per gradient exchange.
///
/// Messages between two GPUs are matched by (source, tag) in send order, so a tag reused every step is
/// unambiguous; the base keeps pipeline tags clear of the small tags commands hand out.
struct PipelineTags: Sendable {
    static let base = 1 << 30
    let stageCount: Int
    let microBatchesPerDirection: Int

    /// The tag of `transfer`.
    func tag(of transfer: PipelineTransfer) -> Int {
        let payload = transfer.payload == .activation ? 0 : 1
        let chunk = transfer.producer
        let lane = (payload * 2 + chunk.direction.rawValue) * stageCount + chunk.stage
        return Self.base + lane * microBatchesPerDirection + chunk.microBatch
    }

    /// The tag of the gradients of `stage`'s copy travelling `direction`, sent to the other copy.
    func gradientExchangeTag(stage: Int, direction: PipelineDirection) -> Int {
        Self.base + 4 * stageCount * microBatchesPerDirection + direction.rawValue * stageCount + stage
    }
}
