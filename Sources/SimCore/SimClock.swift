/// The virtual clock of one simulation; sleeping parks the task in the simulation's timer heap.
public struct SimClock: Clock {
    public typealias Instant = SimInstant
    public typealias Duration = SimDuration

    @usableFromInline let executor: SimExecutor

    /// The current virtual time.
    public var now: SimInstant { SimInstant(nanosecondsSinceStart: executor.nowNs) }
    public var minimumResolution: SimDuration { .nanoseconds(1) }

    /// Suspends until `deadline`; at or before now it is a FIFO yield. Throws `CancellationError` if cancelled.
    public func sleep(until deadline: SimInstant, tolerance: SimDuration? = nil) async throws {
        try await executor.sleep(untilNs: deadline.nanosecondsSinceStart)
    }

    /// Suspends until `deadline` without observing cancellation: the cheapest sleep, for hardware hot paths.
    @inlinable
    public func sleepUncancellable(until deadline: SimInstant) async {
        await executor.sleepUncancellable(untilNs: deadline.nanosecondsSinceStart)
    }

    /// Suspends for `duration` of virtual time (runs on the caller's executor, unlike the protocol default).
    public func sleep(for duration: SimDuration) async throws {
        try await executor.sleep(untilNs: executor.nowNs + duration.nanoseconds)
    }
}
