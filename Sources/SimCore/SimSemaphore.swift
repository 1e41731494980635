/// A counting semaphore on the simulation: `acquire` takes a permit or waits (FIFO) for one.
public actor SimSemaphore: SimulatedActor {
    public nonisolated let simulation: Simulation
    /// Shown in deadlock reports.
    public nonisolated let name: String
    /// Permits available now.
    public private(set) var availablePermits: Int
    private var waiters = WaiterQueue<Void>()

    /// A semaphore with `permits` initial permits (not negative).
    public init(_ name: String, permits: Int, in simulation: Simulation) {
        precondition(permits >= 0, "a semaphore starts with zero or more permits, not \(permits)")
        self.name = name
        self.availablePermits = permits
        self.simulation = simulation
    }

    /// Takes one permit, waiting behind earlier callers when none is free.
    public func acquire() async {
        if availablePermits > 0 {
            availablePermits -= 1
            return
        }
        await withUnsafeContinuation { waiters.append($0, in: simulation, waitingOn: self) }
    }

    /// Returns one permit, handing it straight to the longest waiter if there is one.
    public func release() {
        if !waiters.resumeFirst(returning: (), in: simulation) { availablePermits += 1 }
    }
}

extension SimSemaphore: WaitDescribing {
    /// `semaphore 'NAME'`, for the deadlock report.
    public nonisolated func waitDescription(_ first: Int, _ second: Int) -> String { "semaphore '\(name)'" }
}
