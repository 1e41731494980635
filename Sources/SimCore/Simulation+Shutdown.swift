/// What `Simulation.shutdown()` found still running and what it could end.
public struct ShutdownReport: Sendable, Equatable, CustomStringConvertible {
    /// The virtual time the world was shut down at.
    public var time: SimInstant
    /// Processes that were still running and ended once cancelled (sleepers, or waits that honour cancellation).
    public var cancelled: [String]
    /// Processes that cancellation could not end (they wait on a message or event that will never come): their
    /// tasks stay suspended for good, so their memory is leaked.
    public var leaked: [DeadlockReport.Waiter]
    /// Sleepers still parked after the shutdown: hardware processes mid-transfer, or the leaked processes.
    public var pendingTimerCount: Int

    /// Whether nothing was left behind: no process was running and no sleeper was parked.
    public var isClean: Bool { cancelled.isEmpty && leaked.isEmpty && pendingTimerCount == 0 }

    public var description: String {
        guard !isClean else { return "shut down at \(time): nothing left running" }
        var parts: [String] = []
        if !cancelled.isEmpty {
            parts.append("\(cancelled.count) unfinished process(es) cancelled: " + Self.list(cancelled))
        }
        if !leaked.isEmpty {
            parts.append(
                "\(leaked.count) process(es) leaked (could not be cancelled): "
                    + Self.list(leaked.map { "\($0.process) waits on \($0.waitsOn)" }))
        }
        if pendingTimerCount > 0 { parts.append("\(pendingTimerCount) sleeper(s) left parked") }
        return "shut down at \(time): " + parts.joined(separator: "; ")
    }

    private static func list(_ items: [String]) -> String {
        let shown = items.prefix(DeadlockReport.listedWaiterLimit).joined(separator: ", ")
        return items.count > DeadlockReport.listedWaiterLimit
            ? shown + " and \(items.count - DeadlockReport.listedWaiterLimit) more" : shown
    }
}

extension Simulation {
    /// The most jobs `shutdown` runs while cancelled processes unwind (none of them advances time).
    public static let shutdownJobBudget = 10_000_000

    /// Ends the world: cancels every live process, runs the jobs that cancellation queues (time does not
    /// move), and reports what could not be ended. Call it from the driver before dropping the simulation.
    @discardableResult
    public func shutdown() -> ShutdownReport {
        let live = processes.liveIDs
        executor.drive {
            for id in live { processes.task(of: id)?.cancel() }
            var budget = Self.shutdownJobBudget
            while budget > 0, executor.runNextJob() { budget -= 1 }
        }
        clearFailure()
        let leakedIDs = processes.liveIDs
        let report = processes.deadlockReport()
        let leakedSet = Set(leakedIDs)  // lookup only, never iterated
        markShutDown()
        return ShutdownReport(
            time: now, cancelled: live.filter { !leakedSet.contains($0) }.map { processes.name(of: $0) },
            leaked: report.waiters,
            pendingTimerCount: executor.pendingTimerCount)
    }
}
