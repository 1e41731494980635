import SimCore

/// What running a schedule as a list schedule shows: time, idle time, memory.
public struct ScheduleAnalysis: Sendable {
    /// The compute ops of each device, placed in time.
    public var spans: [[OpSpan]]
    /// From the start to the end of the last op.
    public var makespan: SimDuration
    /// Per device, the time spent computing.
    public var busyTime: [SimDuration]
    /// Per device, makespan minus busy time.
    public var idleTime: [SimDuration]
    /// The largest per-device idle time (every device's, when all are equally busy).
    public var bubble: SimDuration
    /// Per device, the most micro-batch activations held at once (from a chunk's F until its weight gradient).
    public var peakActivations: [Int]
    /// Per device, how many stages' parameters it holds.
    public var parameterCopies: [Int]

    /// bubble / makespan.
    public var bubbleFraction: Double { makespan == .zero ? 0 : bubble / makespan }
}

extension PipelineSchedule {
    /// Checks the schedule is one correct training step, or throws naming the first offending op.
    ///
    /// Checks, in order: each device holds the parameters of its equal share of the stages (directions x
    /// stages / devices: 1 for 1F1B, 2 for DualPipe and DualPipe-V, v for interleaved 1F1B); ops sit on the
    /// device of their stage; each chunk gets F once and either BW once or B and W once; local inputs come
    /// earlier in the list, remote ones have a receive before the consumer and a send after the producer; W
    /// pops the weight-gradient FIFO in order (so it ends empty); and the ops can run without a deadlock.
    public func validate() throws {
        // Whether a device waits forever depends on the order of ops only, so any durations will do.
        _ = try execute(durations: .uniform(.nanoseconds(1)), sendTime: .zero, sendTiming: .reference)
    }

    /// Validates, then runs the schedule with `durations`, `sendTime` per hop and `sendTiming`.
    public func analyze(durations: OpDurations, sendTime: SimDuration = .zero, sendTiming: SendTiming = .reference)
        throws -> ScheduleAnalysis
    {
        let spans = try execute(durations: durations, sendTime: sendTime, sendTiming: sendTiming)
        let makespan = spans.joined().map { $0.end - .start }.max() ?? .zero
        let busy = spans.map { $0.reduce(SimDuration.zero) { $0 + ($1.end - $1.start) } }
        let idle = busy.map { makespan - $0 }
        return ScheduleAnalysis(
            spans: spans, makespan: makespan, busyTime: busy, idleTime: idle, bubble: idle.max() ?? .zero,
            peakActivations: devices.map(Self.peakActivations),
            parameterCopies: devices.indices.map { parameterCopies(device: $0) })
    }

    /// The structural checks, then the list-schedule run: each device's compute ops placed in time.
    private func execute(durations: OpDurations, sendTime: SimDuration, sendTiming: SendTiming) throws -> [[OpSpan]] {
        var validator = ScheduleValidator(self)
        try validator.check()
        var execution = ScheduleExecution(self, durations: durations, sendTime: sendTime, timing: sendTiming)
        try execution.run()
        return execution.spans
    }

    /// The most activations held at once: an F takes one when it starts, its weight gradient frees it at the end.
    static func peakActivations(_ ops: [PipelineOp]) -> Int {
        var held = 0
        var peak = 0
        for op in ops {
            let work = op.kind.work
            held += work.filter { $0.role == .forward }.count
            peak = max(peak, held)
            held -= work.filter { $0.role == .weight }.count
        }
        return peak
    }
}
