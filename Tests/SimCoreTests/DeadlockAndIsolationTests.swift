import Synchronization
import Testing

@testable import SimCore

@Suite("Deadlocks and executor isolation")
struct DeadlockAndIsolationTests {
    @Test("two processes waiting for each other's message are reported as blocked, both named")
    func mutualWaitIsBlocked() {
        let simulation = makeSimulation()
        let inboxA = Mailbox<Int>("inbox A", in: simulation)
        let inboxB = Mailbox<Int>("inbox B", in: simulation)
        simulation.spawn(name: "alice") {
            let value = await inboxA.receive()
            await inboxB.send(value)
        }
        simulation.spawn(name: "bob") {
            let value = await inboxB.receive()
            await inboxA.send(value)
        }
        let reason = simulation.run()
        guard case .blocked(let report) = reason else {
            Issue.record("expected blocked, got \(reason)")
            return
        }
        #expect(report.processNames == ["alice", "bob"])
        #expect(report.waiters.map(\.waitsOn) == ["mailbox 'inbox A'", "mailbox 'inbox B'"])
        #expect(report.description.contains("alice waits on mailbox 'inbox A'"))
    }

    @Test("task groups, async let and child tasks stay on the simulation executor")
    func childTasksStayOnExecutor() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "parent") {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        try? await clock.sleep(for: .nanoseconds(Int64(100 * (5 - index))))
                        await log.note("child\(index)")
                    }
                }
            }
            async let late: Void = log.note("async-let")
            await late
            await withDiscardingTaskGroup { group in
                group.addTask { await log.note("discarding") }
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.executor.foreignEnqueueCount == 0)
        #expect(
            simulation.labels(of: log) == ["child4", "child3", "child2", "child1", "child0", "async-let", "discarding"])
    }

    @Test("work started from Task.detached inside a process is caught as a foreign enqueue")
    func detachedTaskIsCaught() async {
        let simulation = Simulation()
        let executor = simulation.executor
        let escaped = Mutex<Task<Void, Never>?>(nil)
        simulation.spawn(name: "leaky") {
            let handle = Task.detached {
                _ = Task(executorPreference: executor) {}
            }
            escaped.withLock { $0 = handle }
        }
        #expect(simulation.run() == .finished)
        let handle = escaped.withLock { $0 }
        await handle?.value
        #expect(executor.foreignEnqueueCount == 1)
    }
}
