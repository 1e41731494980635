import SimCore

/// Splits one stage worker's step into `StepTimeBreakdown` parts while it runs.
///
/// The worker opens an interval before each thing that takes time (a posted receive's wait, a send, a compute
/// op, the step's gradient exchange and optimizer) and closes it after, passing the compute partition's
/// executed busy time (`SMPartition.executedBusyTime(by:)`) at both ends: the difference is the compute SMs'
/// busy time inside the interval, the rest of it is compute-idle and goes to the part the interval's kind
/// names. Time between a close and the next open is `remainder`. The trainer adds the wait at the step barrier
/// (`bubble`) so the parts add up to the step time exactly.
struct StepAccounting: Sendable {
    /// What an interval was.
    enum Interval: Sendable {
        /// Waiting for a message whose send started at `sentAt`: compute-idle time before it is bubble (the
        /// producer was still working), after it `communication` (the message was on the wire).
        case wait(sentAt: SimInstant, communication: StepTimeBreakdown.Part)
        /// Posting a message: any compute-idle time is `communication`.
        case send(communication: StepTimeBreakdown.Part)
        /// F, B, W or F&B: compute-idle time is exposed EP communication; `unitCost` ops are compute throughout
        /// (their time is a sleep of the unit duration, not kernels).
        case compute(unitCost: Bool)
        /// The step's end after the mirrored-gradient exchange: busy time is the optimizer's, idle time the
        /// ZeRO collectives'.
        case update
    }

    /// When the worker's step began.
    let start: SimInstant
    /// When the last interval closed (the start until one did).
    private(set) var end: SimInstant
    /// The parts so far.
    private(set) var breakdown = StepTimeBreakdown()
    private var opened: (at: SimInstant, executedBusy: SimDuration)?

    /// An accounting that starts at `start`.
    init(start: SimInstant) {
        self.start = start
        end = start
    }

    /// Opens an interval at `now`; the compute partition has executed `executedBusy` by then.
    mutating func open(at now: SimInstant, executedBusy: SimDuration) {
        breakdown.add(now - end, to: .remainder)
        end = now
        opened = (now, executedBusy)
    }

    /// Closes the open interval at `now` as `interval` (nothing is open: the time since the last close is
    /// remainder, so a missing `open` shows instead of vanishing).
    mutating func close(_ interval: Interval, at now: SimInstant, executedBusy: SimDuration) {
        guard let opened else {
            breakdown.add(now - end, to: .remainder)
            end = now
            return
        }
        self.opened = nil
        end = now
        let length = now - opened.at
        let busy = executedBusy - opened.executedBusy
        let idle = length - busy
        switch interval {
        case .wait(let sentAt, let communication):
            // Work still queued on the compute SMs runs first, contiguously from the interval's start; the
            // SMs are idle after it.
            breakdown.add(busy, to: .compute)
            let idleStart = opened.at + busy
            let beforeSend = min(idle, max(.zero, sentAt - idleStart))
            breakdown.add(beforeSend, to: .bubble)
            breakdown.add(idle - beforeSend, to: communication)
        case .send(let communication):
            breakdown.add(busy, to: .compute)
            breakdown.add(idle, to: communication)
        case .compute(let unitCost):
            breakdown.add(unitCost ? length : busy, to: .compute)
            breakdown.add(unitCost ? .zero : idle, to: .epCommunication)
        case .update:
            breakdown.add(busy, to: .optimizer)
            breakdown.add(idle, to: .dpCommunication)
        }
    }

    /// Moves `busy` of compute SMs' time, counted as compute by the intervals it fell in, to the optimizer: the
    /// AdamW kernels `zero-overlap` runs while the schedule's intervals are open (at most the compute part).
    mutating func reassignToOptimizer(_ busy: SimDuration) {
        let moved = min(busy, breakdown[.compute])
        breakdown.add(.zero - moved, to: .compute)
        breakdown.add(moved, to: .optimizer)
    }

    /// The breakdown over the whole step from `stepStart` to `stepEnd` (the barrier releases around it): the
    /// time before the worker began is remainder, the wait after its last interval bubble.
    func closed(stepStart: SimInstant, stepEnd: SimInstant) -> StepTimeBreakdown {
        var result = breakdown
        result.add(start - stepStart, to: .remainder)
        result.add(stepEnd - end, to: .bubble)
        return result
    }
}
