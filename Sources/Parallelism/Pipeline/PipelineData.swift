import MoEModel

/// The micro-batches of a pipeline run: exactly `ReferenceTrainer`'s, numbered across directions.
///
/// DualPipe's down direction takes the first half of the step's micro-batches and the up direction the
/// second half, as its reference splits the batch; single-direction schedules take them in order.
struct PipelineData: Sendable {
    let dataset: MarkovDataset
    let sequencesPerMicroBatch: Int
    /// The data-parallel index of the pipeline group: group d runs the step's micro-batches d·m … d·m+m−1.
    var dataIndex = 0

    /// The index of `chunk`'s micro-batch among the step's global batch (DP × m micro-batches).
    func globalIndex(of chunk: PipelineChunk, schedule: PipelineSchedule) -> Int {
        dataIndex * schedule.microBatchCount + chunk.direction.rawValue * schedule.microBatchesPerDirection
            + chunk.microBatch
    }

    /// The tokens and targets of `chunk`'s micro-batch in step `step`.
    func batch(step: Int, chunk: PipelineChunk, schedule: PipelineSchedule) throws -> TokenBatch {
        try dataset.batch(
            step: step, microBatch: globalIndex(of: chunk, schedule: schedule), sequences: sequencesPerMicroBatch)
    }
}
