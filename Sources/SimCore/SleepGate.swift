/// The actor a sleeping task hops to. Its executor does not run the task: it hands the task's job to the
/// simulation, which parks it in the timer heap until the sleep's deadline (no continuation involved).
///
/// When due, the job runs on the simulation executor although the task formally resumes inside `park()`:
/// harmless because `park()` only bumps a counter and returns, so the next thing the task does is hop back to
/// its caller's isolation. Keep `park()` free of awaits and isolation checks.
actor SleepGate {
    private let parking: ParkingExecutor
    /// Tasks parked so far: isolated state the hop is needed for, so the optimiser cannot drop the hop.
    private var parkedCount: UInt64 = 0

    init(parking: ParkingExecutor) { self.parking = parking }

    nonisolated var unownedExecutor: UnownedSerialExecutor { parking.asUnownedSerialExecutor() }

    /// Hopping here parks the calling task; it resumes on the simulation executor once it is due.
    func park() { parkedCount &+= 1 }
}
