import Parallelism
import SimCore
import Testing

/// Interleaved 1F1B: bubble (PP-1)(f+b+w) per device with per-chunk durations, i.e. a fraction (1/v)(PP-1)/m
/// of the ideal time m v (f+b+w); v chunks of parameters and activations per device.
struct InterleavedScheduleTests {
    @Test(
        "bubble (1/v)(PP-1)/m of the ideal time", arguments: [4, 8], ScheduleBubbleTests.anyDurations)
    func bubble(devices pp: Int, durations d: Durations) throws {
        for v in [1, 2, 4] {
            for m in [pp, 3 * pp] {
                let schedule = try PipelineSchedule.interleavedOneFOneB(
                    devices: pp, chunksPerDevice: v, microBatches: m)
                let analysis = try schedule.analyze(durations: d.ops)
                let ideal = Int64(m * v) * (d.f + d.b + d.w)
                #expect(analysis.idleNs == Array(repeating: ideal * Int64(pp - 1) / Int64(m * v), count: pp))
                #expect(analysis.parameterCopies == Array(repeating: v, count: pp))
            }
        }
    }

    @Test func invalidSizes() {
        #expect(throws: PipelineScheduleError.tooFewChunks(schedule: "interleaved 1F1B", chunksPerDevice: 0)) {
            try PipelineSchedule.interleavedOneFOneB(devices: 4, chunksPerDevice: 0, microBatches: 8)
        }
        let notMultiple = PipelineScheduleError.microBatchesNotMultiple(
            schedule: "interleaved 1F1B", microBatches: 6, devices: 4)
        #expect(throws: notMultiple) {
            try PipelineSchedule.interleavedOneFOneB(devices: 4, chunksPerDevice: 2, microBatches: 6)
        }
        #expect(notMultiple.description == "interleaved 1F1B needs m to be a multiple of PP=4, got m=6")
    }
}
