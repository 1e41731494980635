/// The serial executor of the sleep gate: every job it receives is a task that asked to sleep, and it passes
/// each one to the simulation executor's timer heap instead of running it.
final class ParkingExecutor: SerialExecutor, @unchecked Sendable {
    /// The simulation executor that owns the gate (set once, right after both exist; it outlives the gate).
    unowned(unsafe) var owner: SimExecutor?

    func enqueue(_ job: consuming ExecutorJob) { owner?.parkSleeper(UnownedJob(job)) }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
}
