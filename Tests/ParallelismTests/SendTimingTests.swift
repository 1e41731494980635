import Parallelism
import SimCore
import Testing

/// Reference and eager send timing on GPipe PP=2, m=2 with f = b = w = 10 ns (BW = 20) and 1 ns per hop.
///
/// Unchanged, device 0 runs F0 [0,10] F1 [10,20]; device 1 gets a0 at 11 and a1 at 21, runs F0 [11,21]
/// F1 [21,31] BW0 [31,51] BW1 [51,71]; g0 reaches device 0 at 52: BW0 [52,72] BW1 [72,92]. Makespan 92.
/// Any 10 ns delay of device 1's first forward shifts everything after it: makespan 102.
struct SendTimingTests {
    static let durations = OpDurations.uniform(.nanoseconds(10))

    private func makespans(_ schedule: PipelineSchedule) throws -> (reference: Int64, eager: Int64) {
        let reference = try schedule.analyze(
            durations: Self.durations, sendTime: .nanoseconds(1), sendTiming: .reference)
        let eager = try schedule.analyze(durations: Self.durations, sendTime: .nanoseconds(1), sendTiming: .eager)
        return (reference.makespan.nanoseconds, eager.makespan.nanoseconds)
    }

    @Test func unchangedScheduleIsTheSameUnderBoth() throws {
        let result = try makespans(try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 2))
        #expect(result == (92, 92))
    }

    /// Posting a0's send after F1: the reference issues it when F1 ends (20, arrives 21), eager when F0 ends.
    @Test func deferredSendLeavesAtTheNextCommunicationPoint() throws {
        var schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 2)
        let send = PipelineOp.Kind.send(PipelineTransfer(.activation, of: PipelineChunk(stage: 0, microBatch: 0)))
        let index = try #require(schedule.devices[0].firstIndex { $0.kind == send })
        schedule.devices[0].swapAt(index, index + 1)
        #expect(schedule.devices[0][index].kind == .forward(PipelineChunk(stage: 0, microBatch: 1)))
        #expect(try makespans(schedule) == (102, 92))
    }

    /// Posting a1's receive before F0: the reference's F0 waits for every posted receive, a1 included (21).
    @Test func earlyReceiveHoldsTheNextComputeUnderReference() throws {
        var schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 2)
        let receive = PipelineOp.Kind.receive(PipelineTransfer(.activation, of: PipelineChunk(stage: 0, microBatch: 1)))
        let index = try #require(schedule.devices[1].firstIndex { $0.kind == receive })
        schedule.devices[1].insert(schedule.devices[1].remove(at: index), at: 1)
        #expect(try makespans(schedule) == (102, 92))
    }

    /// DualPipe defers some sends (F0 after F1 in step 2), so with a hop time the reference is slower.
    @Test("DualPipe: the reference's deferred sends cost time once hops do", arguments: [4, 8])
    func dualPipeDeferredSends(stages pp: Int) throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: pp, microBatches: 2 * pp)
        let hop = SimDuration.nanoseconds(2)
        let reference = try schedule.analyze(durations: Self.durations, sendTime: hop, sendTiming: .reference)
        let eager = try schedule.analyze(durations: Self.durations, sendTime: hop, sendTiming: .eager)
        let free = try schedule.analyze(durations: Self.durations)
        #expect(free.makespan < eager.makespan)
        #expect(eager.makespan < reference.makespan)
    }
}
