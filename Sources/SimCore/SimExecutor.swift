import DequeModule
import Foundation
import Synchronization

/// The single-threaded run loop of one simulation and serial executor of every simulated actor. Jobs run in
/// FIFO order; sleepers' jobs wait in a heap keyed (deadline, sequence).
///
/// While a thread drives the loop, work the runtime would send to the global executor from that thread (a new
/// task, a task-group child, `async let`, a hop into nonisolated code) is redirected into the same FIFO queue
/// (`GlobalEnqueueRedirect`), so no simulated task needs an executor preference and actor hops stay cheap.
/// An enqueue from any other thread, or from any thread while nobody drives, is a determinism bug: it is
/// counted (and traps when `trapsOnForeignEnqueue` is set) and the job is never run.
public final class SimExecutor: SerialExecutor, @unchecked Sendable {
    private var jobs = Deque<UnownedJob>()
    private var timers = TimerHeap()
    private var nextTimerSequence: UInt64 = 0
    /// Live (not cancelled) timers in the heap.
    private var liveTimerCount = 0
    /// The timer of the task now hopping to the sleep gate.
    private var pendingSleep: Timer?
    private let parking = ParkingExecutor()
    private let gate: SleepGate

    /// The current virtual time in nanoseconds since start.
    public private(set) var nowNs: Int64 = 0
    /// Jobs run so far: the simulation's event count.
    public private(set) var jobsRun: UInt64 = 0

    /// The thread allowed to enqueue right now (0 when none is driving).
    private let drivingThread = Atomic<UInt>(0)
    private let foreignEnqueues = Atomic<Int>(0)
    private let trapFlag = Atomic<Bool>(false)
    private let stopFlag = Atomic<Bool>(false)

    public init() {
        gate = SleepGate(parking: parking)
        parking.owner = self
        GlobalEnqueueRedirect.install()
    }

    /// Enqueues and timer registrations that came from outside the driving thread (each one a determinism bug).
    public var foreignEnqueueCount: Int { foreignEnqueues.load(ordering: .relaxed) }

    /// When set, a foreign enqueue traps at once instead of only being counted (tests turn this on).
    public var trapsOnForeignEnqueue: Bool {
        get { trapFlag.load(ordering: .relaxed) }
        set { trapFlag.store(newValue, ordering: .relaxed) }
    }

    /// Whether a job is queued to run at the current instant.
    public var hasRunnableJobs: Bool { !jobs.isEmpty }
    /// Sleepers still parked.
    public var pendingTimerCount: Int { liveTimerCount }
    /// Whether any sleeper is still parked.
    public var hasPendingTimers: Bool { liveTimerCount > 0 }
    /// The deadline of the earliest live sleeper, if any.
    public var nextDeadlineNs: Int64? {
        dropCancelledTimers()
        return timers.first?.deadlineNs
    }

    // MARK: - Executor conformance

    public func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        guard isOnDrivingThread() else { return reportForeignEnqueue() }
        jobs.append(unownedJob)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    /// Lets `assumeIsolated` read actor state between steps, from the thread that owns the simulation.
    public func checkIsolated() {
        let driver = drivingThread.load(ordering: .relaxed)
        precondition(
            driver == 0 || driver == currentThreadID(),
            "simulated actor state read from a foreign thread while the simulation runs")
    }

    /// Queues a job the runtime meant for the global executor; only the driving thread gets here.
    func acceptRedirected(_ job: UnownedJob) { jobs.append(job) }

    // MARK: - Driving

    /// Runs `body` with the calling thread marked as the one allowed to enqueue.
    public func drive<Result>(_ body: () throws -> Result) rethrows -> Result {
        let mark = beginDriving()
        defer { endDriving(restoring: mark) }
        return try body()
    }

    /// Marks the calling thread as the driver; returns what to restore with `endDriving`.
    func beginDriving() -> DrivingMark {
        let thread = currentThreadID()
        let previous = drivingThread.load(ordering: .relaxed)
        precondition(previous == 0 || previous == thread, "a simulation is driven from two threads at once")
        drivingThread.store(thread, ordering: .relaxed)
        return DrivingMark(thread: previous, redirect: GlobalEnqueueRedirect.redirectCurrentThread(to: self))
    }

    func endDriving(restoring mark: DrivingMark) {
        drivingThread.store(mark.thread, ordering: .relaxed)
        GlobalEnqueueRedirect.restoreCurrentThread(mark.redirect)
    }

    /// Runs the next queued job. Returns false when the queue is empty. Call only inside `drive`.
    @inline(__always)
    func runNextJob() -> Bool {
        guard let job = jobs.popFirst() else { return false }
        jobsRun &+= 1
        job.runSynchronously(on: asUnownedSerialExecutor())
        return true
    }

    /// Advances `now` to the earliest live deadline and queues every sleeper due then, in scheduling order.
    /// Returns false when no live timer is left. Call only inside `drive` with an empty job queue.
    func fireNextTimers() -> Bool {
        dropCancelledTimers()
        guard let first = timers.first else { return false }
        nowNs = first.deadlineNs
        while let next = timers.first, next.deadlineNs == nowNs {
            if let job = timers.removeFirst().job {
                liveTimerCount -= 1
                jobs.append(job)
            }
        }
        return true
    }

    /// Moves `now` forward to `instantNs` (used when a run stops at a time limit before the next timer).
    func advanceIdle(toNs instantNs: Int64) {
        precondition(jobs.isEmpty && instantNs >= nowNs, "time advanced with runnable jobs or backwards")
        if let next = nextDeadlineNs { precondition(instantNs <= next, "time advanced past a pending timer") }
        nowNs = instantNs
    }

    /// Asks the driving loop to stop at the next job boundary (safe from any thread, e.g. a signal handler).
    public func requestStop() { stopFlag.store(true, ordering: .relaxed) }

    /// Consumes a pending stop request; returns whether there was one.
    @discardableResult
    public func takeStopRequest() -> Bool {
        stopFlag.load(ordering: .relaxed) && stopFlag.exchange(false, ordering: .relaxed)
    }

    // MARK: - Sleeping

    /// Parks the current task until `deadlineNs`; a deadline at or before now yields (FIFO).
    /// Cancellation resumes it at once with `CancellationError` and leaves the clock where it is.
    public func sleep(untilNs deadlineNs: Int64, isolation: isolated (any Actor)? = #isolation) async throws {
        try Task.checkCancellation()
        let sequence = takeTimerSequence()
        await withTaskCancellationHandler(
            operation: {
                _ = isolation  // captured, so the closure runs on the caller's actor instead of hopping off it
                if !Task.isCancelled { await park(untilNs: deadlineNs, sequence: sequence) }
            },
            onCancel: { self.cancelTimer(sequence: sequence) },
            isolation: isolation)
        try Task.checkCancellation()
    }

    /// Parks the current task until `deadlineNs` without observing cancellation: the cheapest sleep, for the
    /// hot paths of hardware models (no cancellation record is registered with the runtime).
    public func sleepUncancellable(untilNs deadlineNs: Int64) async {
        await park(untilNs: deadlineNs, sequence: takeTimerSequence())
    }

    /// Hops to the sleep gate, whose executor hands this task's job to `parkSleeper`: one job per sleep and no
    /// continuation. The task resumes on this executor, so the hop back to the caller's actor is free.
    @inline(__always)
    private func park(untilNs deadlineNs: Int64, sequence: UInt64) async {
        // From a foreign thread the hop still happens, and `parkSleeper` reports and drops the job.
        if isOnDrivingThread() { pendingSleep = Timer(deadlineNs: deadlineNs, sequence: sequence, job: nil) }
        await gate.park()
        precondition(pendingSleep == nil, "the hop to the sleep gate was optimised away")
    }

    /// Takes the job of the task hopping to the sleep gate: due now, it queues (a FIFO yield); otherwise it
    /// waits in the timer heap.
    func parkSleeper(_ job: UnownedJob) {
        guard isOnDrivingThread() else { return reportForeignEnqueue() }
        guard var timer = pendingSleep else { preconditionFailure("a job reached the sleep gate without a sleep") }
        pendingSleep = nil
        guard timer.deadlineNs > nowNs else { return jobs.append(job) }
        timer.job = job
        liveTimerCount += 1
        timers.insert(timer)
    }

    @inline(__always)
    private func takeTimerSequence() -> UInt64 {
        defer { nextTimerSequence &+= 1 }
        return nextTimerSequence
    }

    /// Queues the cancelled sleeper at once; `sleep(untilNs:)` then sees the cancellation and throws.
    private func cancelTimer(sequence: UInt64) {
        guard isOnDrivingThread() else { return reportForeignEnqueue() }
        guard let job = timers.takeJob(sequence: sequence) else { return }
        liveTimerCount -= 1
        jobs.append(job)
    }

    private func dropCancelledTimers() {
        guard timers.count != liveTimerCount else { return }
        while let first = timers.first, first.job == nil { _ = timers.removeFirst() }
    }

    // MARK: - Thread checks

    @inline(__always)
    private func isOnDrivingThread() -> Bool {
        drivingThread.load(ordering: .relaxed) == currentThreadID()
    }

    private func reportForeignEnqueue() {
        foreignEnqueues.add(1, ordering: .relaxed)
        if trapFlag.load(ordering: .relaxed) {
            preconditionFailure("determinism bug: work enqueued on the simulation from a foreign thread")
        }
    }
}

/// A nonzero identifier of the calling thread.
@inline(__always)
func currentThreadID() -> UInt {
    #if canImport(Glibc)
        UInt(pthread_self())
    #else
        UInt(bitPattern: pthread_self())
    #endif
}
