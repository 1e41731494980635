import Parallelism
import Testing

/// Sizes a schedule cannot take give errors that name the bad value.
struct ScheduleParameterTests {
    @Test(
        "invalid sizes are rejected",
        arguments: [
            (
                PipelineScheduleKind.dualPipe, 5, 10,
                PipelineScheduleError.oddStageCount(schedule: "DualPipe", stages: 5)
            ),
            (.dualPipe, 4, 9, .oddMicroBatchCount(schedule: "DualPipe", microBatches: 9)),
            (.dualPipe, 4, 6, .tooFewMicroBatches(schedule: "DualPipe", microBatches: 6, minimum: 8)),
            (.dualPipe, 0, 8, .tooFewStages(schedule: "DualPipe", stages: 0, minimum: 2)),
            (.dualPipeV, 7, 14, .oddStageCount(schedule: "DualPipe-V", stages: 7)),
            (.dualPipeV, 8, 7, .tooFewMicroBatches(schedule: "DualPipe-V", microBatches: 7, minimum: 8)),
            (.oneFOneB, 0, 4, .tooFewStages(schedule: "1F1B", stages: 0, minimum: 1)),
            (.zeroBubbleH1, 4, 0, .tooFewMicroBatches(schedule: "ZB1P", microBatches: 0, minimum: 1)),
            (.gpipe, 4, -1, .tooFewMicroBatches(schedule: "GPipe", microBatches: -1, minimum: 1)),
        ])
    func invalidSizes(kind: PipelineScheduleKind, stages: Int, microBatches: Int, error: PipelineScheduleError) {
        #expect(throws: error) { try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches) }
    }

    @Test func messagesNameTheBadValue() {
        #expect(
            PipelineScheduleError.oddStageCount(schedule: "DualPipe", stages: 5).description
                == "DualPipe needs an even number of stages, got PP=5")
        #expect(
            PipelineScheduleError.tooFewMicroBatches(schedule: "DualPipe", microBatches: 6, minimum: 8).description
                == "DualPipe needs at least 8 micro-batches, got m=6")
        #expect(
            PipelineScheduleError.oddMicroBatchCount(schedule: "DualPipe", microBatches: 9).description
                == "DualPipe needs an even number of micro-batches, got m=9")
    }

    /// `device(of:)` throws, naming the chunk, for a stage or direction the schedule lacks (it used to trap).
    @Test func deviceOfAChunkOutsideTheScheduleThrows() throws {
        let dualPipe = try PipelineSchedule.generate(.dualPipe, stages: 4, microBatches: 8)
        #expect(try dualPipe.device(of: PipelineChunk(stage: 1, microBatch: 0, direction: .up)) == 2)
        #expect(try dualPipe.device(of: PipelineChunk(stage: 3, microBatch: 0)) == 3)
        let tooFar = PipelineChunk(stage: 4, microBatch: 0, direction: .up)
        let error = #expect(throws: ScheduleValidationError.self) { try dualPipe.device(of: tooFar) }
        #expect(error?.message == "DualPipe has no stage 4 (stages 0..<4) for mb 0 up, stage 4")
        let negative = #expect(throws: ScheduleValidationError.self) {
            try dualPipe.device(of: PipelineChunk(stage: -1, microBatch: 0))
        }
        #expect(negative?.message == "DualPipe has no stage -1 (stages 0..<4) for mb 0, stage -1")
        let oneFOneB = try PipelineSchedule.generate(.oneFOneB, stages: 4, microBatches: 4)
        let upward = #expect(throws: ScheduleValidationError.self) {
            try oneFOneB.device(of: PipelineChunk(stage: 0, microBatch: 0, direction: .up))
        }
        #expect(upward?.message == "1F1B has no direction up (1 direction(s)) for mb 0 up, stage 0")
    }

    @Test func smallestValidSizesGenerate() throws {
        try PipelineSchedule.generate(.dualPipe, stages: 2, microBatches: 4).validate()
        try PipelineSchedule.generate(.dualPipeV, stages: 2, microBatches: 2).validate()
        try PipelineSchedule.generate(.oneFOneB, stages: 1, microBatches: 1).validate()
    }
}
