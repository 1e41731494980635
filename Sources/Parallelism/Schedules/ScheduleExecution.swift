import SimCore

/// Runs a schedule as a list schedule: each device takes its ops in order, each as soon as its inputs arrived.
///
/// A message arrives `sendTime` after it leaves (one hop, links never contended); when it leaves and what a
/// compute op waits for follow `SendTiming`. Communication never occupies the device.
struct ScheduleExecution {
    let schedule: PipelineSchedule
    let durations: OpDurations
    let sendTime: SimDuration
    let timing: SendTiming

    private var next: [Int]
    private var clock: [SimInstant]
    private var pendingReceives: [[PipelineTransfer]]
    private var produced: [PipelineTransfer: SimInstant] = [:]  // lookup only, never iterated
    private var arrivals: [PipelineTransfer: SimInstant] = [:]  // lookup only, never iterated
    /// The compute ops of each device, placed in time.
    private(set) var spans: [[OpSpan]]

    init(_ schedule: PipelineSchedule, durations: OpDurations, sendTime: SimDuration, timing: SendTiming) {
        self.schedule = schedule
        self.durations = durations
        self.sendTime = sendTime
        self.timing = timing
        next = Array(repeating: 0, count: schedule.deviceCount)
        clock = Array(repeating: .start, count: schedule.deviceCount)
        pendingReceives = Array(repeating: [], count: schedule.deviceCount)
        spans = Array(repeating: [], count: schedule.deviceCount)
    }

    /// Places every op in time; throws when devices wait for each other in a cycle.
    mutating func run() throws {
        while next.indices.contains(where: { next[$0] < schedule.devices[$0].count }) {
            var progressed = false
            for device in 0..<schedule.deviceCount {
                while step(device) { progressed = true }
            }
            guard progressed else { throw ScheduleValidationError("deadlock: " + blockedOps().joined(separator: "; ")) }
        }
    }

    /// Runs `device`'s next op if its inputs are known; returns whether it did.
    private mutating func step(_ device: Int) -> Bool {
        guard next[device] < schedule.devices[device].count else { return false }
        let op = schedule.devices[device][next[device]]
        switch op.kind {
        case .receive(let transfer):
            if timing == .reference { pendingReceives[device].append(transfer) }
        case .send(let transfer):
            arrivals[transfer] = departure(of: transfer, by: op) + sendTime
        default:
            guard let ready = readyTime(of: op) else { return false }
            let start = max(clock[device], ready)
            let end = start + durations.duration(of: op)
            spans[device].append(OpSpan(op: op, start: start, end: end))
            clock[device] = end
            pendingReceives[device] = []
            for transfer in schedule.remoteOutputs(of: op) { produced[transfer] = end }
        }
        next[device] += 1
        return true
    }

    /// When a send posted by `op` leaves; eager sends leave when their producer (earlier on the device) ended.
    private func departure(of transfer: PipelineTransfer, by op: PipelineOp) -> SimInstant {
        timing == .reference ? clock[op.device] : produced[transfer, default: clock[op.device]]
    }

    /// When every message `op` waits for has arrived, or nil while one has not been sent yet.
    private func readyTime(of op: PipelineOp) -> SimInstant? {
        var ready = SimInstant.start
        for transfer in awaited(by: op) {
            guard let arrival = arrivals[transfer] else { return nil }
            ready = max(ready, arrival)
        }
        return ready
    }

    private func awaited(by op: PipelineOp) -> [PipelineTransfer] {
        let own = schedule.remoteInputs(of: op)
        guard timing == .reference else { return own }
        let posted = pendingReceives[op.device]
        return posted + own.filter { !posted.contains($0) }
    }

    private func blockedOps() -> [String] {
        schedule.devices.indices.filter { next[$0] < schedule.devices[$0].count }.map { device in
            let op = schedule.devices[device][next[device]]
            let missing = awaited(by: op).filter { arrivals[$0] == nil }.map(\.description)
            return "\(op) (op #\(next[device])) waits for \(missing.joined(separator: ", "))"
        }
    }
}
