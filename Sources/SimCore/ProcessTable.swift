/// Identifies a process spawned on a simulation.
public struct ProcessID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "process#\(rawValue)" }

    /// The simulated process the current task belongs to (inherited by its child tasks).
    @TaskLocal public static var current: ProcessID?
}

/// The simulation's processes: names, liveness and what each one waits on, for the deadlock report.
final class ProcessTable {
    private struct Entry {
        var name: String
        var isAlive = true
        var waitsOn: WaitReason?
        /// The process's task, kept so `Simulation.cancel` and `shutdown` can cancel it.
        var task: Task<Void, Never>?
    }

    private var entries: [Entry] = []
    private(set) var liveCount = 0

    func add(name: String) -> ProcessID {
        entries.append(Entry(name: name))
        liveCount += 1
        return ProcessID(rawValue: entries.count - 1)
    }

    func finish(_ id: ProcessID) {
        entries[id.rawValue].isAlive = false
        entries[id.rawValue].waitsOn = nil
        entries[id.rawValue].task = nil
        liveCount -= 1
    }

    func setTask(_ id: ProcessID, _ task: Task<Void, Never>) {
        if entries[id.rawValue].isAlive { entries[id.rawValue].task = task }
    }

    /// The task of process `id` while it is alive.
    func task(of id: ProcessID) -> Task<Void, Never>? { entries[id.rawValue].task }

    /// The ids of the live processes, in spawn order.
    var liveIDs: [ProcessID] { entries.indices.filter { entries[$0].isAlive }.map { ProcessID(rawValue: $0) } }

    func name(of id: ProcessID) -> String { entries[id.rawValue].name }

    func setWait(_ id: ProcessID, on resource: WaitReason?) { entries[id.rawValue].waitsOn = resource }

    func deadlockReport() -> DeadlockReport {
        let waiters = entries.filter(\.isAlive).map { entry in
            DeadlockReport.Waiter(
                process: entry.name,
                waitsOn: entry.waitsOn?.text ?? "something outside the simulation's primitives (e.g. a child task)")
        }
        return DeadlockReport(waiters: waiters)
    }
}
