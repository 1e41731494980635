/// Why a call that drives the simulation returned.
public enum StopReason: Equatable, Sendable, CustomStringConvertible {
    /// Nothing is left to do: every process ended and no sleeper is parked.
    case finished
    /// The time limit was reached; `now` equals the limit.
    case reachedTime(SimInstant)
    /// The event budget of a `step` was used up.
    case reachedEventCount(UInt64)
    /// Deadlock: no runnable job and no sleeper, yet processes still wait.
    case blocked(DeadlockReport)
    /// A process threw; the run stopped right after it.
    case processFailed(process: String, error: String)
    /// `requestStop()` was called (e.g. Ctrl-C in the REPL).
    case interrupted

    public var description: String {
        switch self {
        case .finished: "finished"
        case .reachedTime(let instant): "reached time \(instant)"
        case .reachedEventCount(let count): "reached event count (\(count) events)"
        case .blocked(let report): "blocked: \(report)"
        case .processFailed(let process, let error): "process \(process) failed: \(error)"
        case .interrupted: "interrupted"
        }
    }
}

/// The processes left waiting when the simulation deadlocked, and what each one waits on.
public struct DeadlockReport: Equatable, Sendable, CustomStringConvertible {
    /// One waiting process.
    public struct Waiter: Equatable, Sendable {
        public var process: String
        public var waitsOn: String
    }

    /// Every live process in spawn order.
    public var waiters: [Waiter]
    /// What the simulated hardware adds about the deadlock (e.g. a down link holding messages).
    public var notes: [String] = []

    /// A report of `waiters`, with `notes` from the hardware.
    public init(waiters: [Waiter], notes: [String] = []) {
        self.waiters = waiters
        self.notes = notes
    }

    /// The names of the waiting processes.
    public var processNames: [String] { waiters.map(\.process) }

    /// How many waiters `description` lists before summarising the rest.
    public static let listedWaiterLimit = 16

    public var description: String {
        let lines = waiters.prefix(Self.listedWaiterLimit).map { "\($0.process) waits on \($0.waitsOn)" }
        let rest = waiters.count - lines.count
        let more = rest > 0 ? "; and \(rest) more" : ""
        let noted = notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")
        return "\(waiters.count) process(es) wait forever: " + lines.joined(separator: "; ") + more + noted
    }
}
