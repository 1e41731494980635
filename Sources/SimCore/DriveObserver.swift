/// Where a drive call has got to, as a progress display sees it.
public struct DriveProgress: Sendable, Equatable {
    /// Virtual time reached.
    public var now: SimInstant
    /// Events run since the simulation started.
    public var events: UInt64
    /// Events run in this drive call so far.
    public var eventsThisDrive: UInt64
    /// Units of work done, of `workTotal` (see `WorkMeter`); 0 of 0 when nothing reports its work.
    public var workDone: Int
    /// Units of work expected; 0 when unknown.
    public var workTotal: Int
    /// What the work units are ("ops").
    public var workUnit: String

    /// A snapshot.
    public init(
        now: SimInstant, events: UInt64, eventsThisDrive: UInt64, workDone: Int = 0, workTotal: Int = 0,
        workUnit: String = ""
    ) {
        self.now = now
        self.events = events
        self.eventsThisDrive = eventsThisDrive
        self.workDone = workDone
        self.workTotal = workTotal
        self.workUnit = workUnit
    }
}

/// Watches a simulation's drive loop from outside the timeline: a progress line, a watchdog.
///
/// `Simulation` calls it on the driving thread when a drive call starts, every `Simulation.observerInterval`
/// events, and when the call returns. It runs between two events, so it must only read: it must not call into
/// simulated actors, spawn or send. It may call `Simulation.requestStop()`. Installing one never changes the
/// order of events (tested: same trace hash with and without).
public protocol DriveObserver: AnyObject {
    /// A drive call (`run`, `run(until:)`, `step`) starts.
    func driveStarted(_ progress: DriveProgress)
    /// Another `Simulation.observerInterval` events have run.
    func driveProgressed(_ progress: DriveProgress)
    /// The drive call returns (for whatever reason).
    func driveEnded(_ progress: DriveProgress)
}

/// Counts units of work (a step's ops) that simulated code reports as it goes, for progress displays.
///
/// Trainers call `expect(_:unit:)` when they know how much they will do and `complete(_:)` as they do it; the
/// counts are plain numbers read by `DriveObserver`s and never affect the timeline. Only simulated code (the
/// driving thread) and code between drive calls touch it.
public final class WorkMeter: @unchecked Sendable {
    /// Units done so far.
    public private(set) var done = 0
    /// Units expected in all; 0 when unknown.
    public private(set) var total = 0
    /// What a unit is, e.g. "ops".
    public private(set) var unit = ""

    /// A meter with nothing expected.
    public init() {}

    /// Adds `count` units to what is expected (a new run adds its own on top of what is left).
    public func expect(_ count: Int, unit: String) {
        total += max(0, count)
        self.unit = unit
    }

    /// Records `count` more units done.
    public func complete(_ count: Int = 1) { done += count }

    /// Forgets every count.
    public func reset() {
        (done, total, unit) = (0, 0, "")
    }
}
