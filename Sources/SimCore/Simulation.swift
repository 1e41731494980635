/// One emulated world: the owner of virtual time, its processes, random streams and trace.
///
/// Spawn processes, then drive the loop with `run()`, `run(until:)`, `run(for:)` or `step(events:)` on the
/// calling thread; each returns why it stopped. Between calls the state can be read with `inspect` without
/// advancing time, and driving can resume any number of times.
public final class Simulation: @unchecked Sendable {
    /// The run loop every simulated actor and task executes on.
    public let executor: SimExecutor
    /// The clock simulated code sleeps on.
    public let clock: SimClock
    /// Spans and instants recorded by the simulated actors.
    public let trace: TraceRecorder
    /// Independent random streams derived from the root seed.
    public let random: RandomStreams

    let processes = ProcessTable()
    private let processHost: ProcessHost
    private var failure: (process: String, error: String)?
    /// Sources of extra lines for a deadlock report (the hardware names down links that hold messages).
    private var deadlockNoteProviders: [() -> [String]] = []
    /// Set by `shutdown`: the world is over.
    public private(set) var isShutDown = false
    /// Called when a drive call starts, every `observerInterval` events and when it returns (a progress line);
    /// it only reads, so it never changes the timeline.
    public var driveObserver: (any DriveObserver)?
    /// Events between two `driveProgressed` calls (at least 1).
    public var observerInterval: UInt64 = 1_024
    /// Units of work simulated code reports (a step's ops), for the drive observer.
    public let work = WorkMeter()

    /// A new simulation at time zero; `seed` is the root of every random stream.
    public init(seed: UInt64 = 0, storesTraceEvents: Bool = true) {
        executor = SimExecutor()
        clock = SimClock(executor: executor)
        processHost = ProcessHost(executor: executor)
        trace = TraceRecorder(storesEvents: storesTraceEvents)
        random = RandomStreams(rootSeed: seed)
    }

    /// The current virtual time.
    public var now: SimInstant { SimInstant(nanosecondsSinceStart: executor.nowNs) }
    /// Events (jobs) run since the start.
    public var eventCount: UInt64 { executor.jobsRun }
    /// Processes spawned and not yet ended.
    public var liveProcessCount: Int { processes.liveCount }

    // MARK: - Processes

    /// Starts a named simulated process; it runs when the simulation is next driven. It runs on the
    /// simulation's process host actor, and every task it starts runs on the simulation executor too (see
    /// `GlobalEnqueueRedirect`).
    @discardableResult
    public func spawn(name: String, _ body: sending @escaping () async throws -> Void) -> ProcessID {
        let id = processes.add(name: name)
        let mark = executor.beginDriving()
        defer { executor.endDriving(restoring: mark) }
        // Handed on unchanged to the host's new task; the closures in between only carry it there.
        nonisolated(unsafe) let process = body
        let task = ProcessID.$current.withValue(id) {
            processHost.assumeIsolated { host in
                host.start(name: name, process) { error in self.processEnded(id, error: error) }
            }
        }
        processes.setTask(id, task)
        return id
    }

    /// Cancels process `id` (its cancellable sleeps throw `CancellationError`); nothing if it has ended.
    public func cancel(_ id: ProcessID) {
        guard let task = processes.task(of: id) else { return }
        // Cancelling a sleeper queues its job, which only the driving thread may do.
        executor.drive { task.cancel() }
    }

    /// Adds a source of lines that a deadlock report appends (called when a run ends blocked).
    public func addDeadlockNotes(_ provider: @escaping () -> [String]) { deadlockNoteProviders.append(provider) }

    private func processEnded(_ id: ProcessID, error: (any Error)?) {
        if let error { failure = failure ?? (processes.name(of: id), String(describing: error)) }
        processes.finish(id)
    }

    /// Stops the current drive call with `.processFailed(process:error:)` as if a process named `process` had
    /// thrown `error`: for a task whose failure its siblings would otherwise wait on forever (the first report
    /// wins, like a process's).
    public func reportFailure(process: String, error: any Error) {
        failure = failure ?? (process, String(describing: error))
    }

    /// Records that the current process waits on `resource` (nil: waits no more). Used by the primitives.
    public func noteWait(_ process: ProcessID?, on resource: String?) {
        guard let process else { return }
        processes.setWait(process, on: resource.map(WaitReason.text))
    }

    /// Records that the current process waits on what `object` describes from `first` and `second` when a
    /// report asks (no words are built on the way).
    public func noteWait(_ process: ProcessID?, describedBy object: any WaitDescribing, _ first: Int, _ second: Int) {
        guard let process else { return }
        processes.setWait(process, on: .described(object, first, second))
    }

    // MARK: - Driving

    /// Runs until nothing is left to do, a deadlock, a failure or a stop request.
    public func run() -> StopReason { drive(untilNs: nil, maxEvents: nil) }

    /// Runs until virtual time `limit`; `now == limit` afterwards unless it stopped early for another reason
    /// (when everything finished before the limit, the idle clock still moves on to it).
    public func run(until limit: SimInstant) -> StopReason {
        drive(untilNs: limit.nanosecondsSinceStart, maxEvents: nil)
    }

    /// Runs for `duration` of virtual time from now.
    public func run(for duration: SimDuration) -> StopReason { run(until: now + duration) }

    /// Runs until `limit` (nil: no limit) or until `maxEvents` events have run (nil: no budget), whichever
    /// comes first, unless it stops earlier for another reason.
    public func run(until limit: SimInstant?, maxEvents: UInt64?) -> StopReason {
        drive(untilNs: limit?.nanosecondsSinceStart, maxEvents: maxEvents)
    }

    /// Runs exactly `events` events (jobs) unless it stops earlier for another reason.
    public func step(events: UInt64 = 1) -> StopReason { drive(untilNs: nil, maxEvents: events) }

    /// Asks a running drive call to stop at the next event boundary (thread-safe).
    public func requestStop() { executor.requestStop() }

    /// Reads (or changes) an actor's state between steps without advancing time.
    public func inspect<A: Actor, Result: Sendable>(_ actor: A, _ read: (isolated A) throws -> Result) rethrows
        -> Result
    {
        try actor.assumeIsolated(read)
    }

    func clearFailure() { failure = nil }
    func markShutDown() { isShutDown = true }

    private func deadlockReport() -> DeadlockReport {
        var report = processes.deadlockReport()
        report.notes = deadlockNoteProviders.flatMap { $0() }
        return report
    }

    private func drive(untilNs: Int64?, maxEvents: UInt64?) -> StopReason {
        guard let observer = driveObserver else { return loop(untilNs: untilNs, maxEvents: maxEvents) }
        let start = eventCount
        observer.driveStarted(progress(since: start))
        defer { observer.driveEnded(progress(since: start)) }
        return loop(untilNs: untilNs, maxEvents: maxEvents, observer: observer)
    }

    private func progress(since start: UInt64) -> DriveProgress {
        DriveProgress(
            now: now, events: eventCount, eventsThisDrive: eventCount &- start, workDone: work.done,
            workTotal: work.total, workUnit: work.unit)
    }

    private func loop(untilNs: Int64?, maxEvents: UInt64?, observer: (any DriveObserver)? = nil) -> StopReason {
        executor.drive {
            let budget = maxEvents ?? .max
            let interval = max(1, observerInterval)
            let start = eventCount
            var used: UInt64 = 0
            var nextReport = observer == nil ? UInt64.max : interval
            while true {
                if let failed = failure {
                    failure = nil
                    return .processFailed(process: failed.process, error: failed.error)
                }
                if executor.takeStopRequest() { return .interrupted }
                if used == budget { return .reachedEventCount(used) }
                if executor.runNextJob() {
                    used += 1
                    if used == nextReport {
                        nextReport += interval
                        observer?.driveProgressed(progress(since: start))
                    }
                    continue
                }
                guard let next = executor.nextDeadlineNs else {
                    guard processes.liveCount == 0 else { return .blocked(deadlockReport()) }
                    if let limit = untilNs, limit > executor.nowNs { executor.advanceIdle(toNs: limit) }
                    return .finished
                }
                if let limit = untilNs, next > limit {
                    if limit > executor.nowNs { executor.advanceIdle(toNs: limit) }
                    return .reachedTime(now)
                }
                _ = executor.fireNextTimers()
            }
        }
    }
}
