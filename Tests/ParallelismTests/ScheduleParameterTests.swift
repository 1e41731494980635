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

    @Test func smallestValidSizesGenerate() throws {
        try PipelineSchedule.generate(.dualPipe, stages: 2, microBatches: 4).validate()
        try PipelineSchedule.generate(.dualPipeV, stages: 2, microBatches: 2).validate()
        try PipelineSchedule.generate(.oneFOneB, stages: 1, microBatches: 1).validate()
    }
}
