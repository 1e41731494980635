import DequeModule

/// Suspended tasks waiting on a simulation primitive, resumed in arrival order; each wait is visible to the
/// simulation's deadlock report while it lasts.
struct WaiterQueue<Value: Sendable> {
    private var waiters = Deque<(continuation: UnsafeContinuation<Value, Never>, process: ProcessID?)>()

    var isEmpty: Bool { waiters.isEmpty }

    /// Parks the current task's `continuation` until `resumeFirst` hands it a value.
    mutating func append(
        _ continuation: UnsafeContinuation<Value, Never>, in simulation: Simulation,
        waitingOn resource: any WaitDescribing
    ) {
        let process = ProcessID.current
        simulation.noteWait(process, describedBy: resource, 0, 0)
        waiters.append((continuation, process))
    }

    /// Resumes the longest waiter with `value`; false when nobody waits.
    @discardableResult
    mutating func resumeFirst(returning value: Value, in simulation: Simulation) -> Bool {
        guard let waiter = waiters.popFirst() else { return false }
        simulation.noteWait(waiter.process, on: nil)
        waiter.continuation.resume(returning: value)
        return true
    }
}
