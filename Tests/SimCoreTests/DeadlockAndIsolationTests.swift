import Dispatch
import Foundation
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

    @Test("unstructured and detached tasks started inside a process run on the simulation, in FIFO order")
    func unstructuredTasksJoinTheQueue() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        simulation.spawn(name: "starter") {
            Task.detached { await log.note("detached") }
            Task { await log.note("unstructured") }
            await log.note("starter")
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.executor.foreignEnqueueCount == 0)
        #expect(simulation.labels(of: log) == ["starter", "detached", "unstructured"])
    }

    @Test("work enqueued on a simulated actor while nobody drives is counted and never run")
    func enqueueWhileNotDrivingIsCaught() {
        let simulation = Simulation()
        let log = EventLog(in: simulation)
        simulation.inspect(log) { log in
            _ = Task { log.note("escaped") }
        }
        #expect(simulation.executor.foreignEnqueueCount == 1)
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log).isEmpty)
    }

    @Test("a process that drives a second simulation hands the global queue back to the first")
    func nestedSimulationsKeepTheirOwnQueues() {
        let outer = makeSimulation()
        let inner = makeSimulation()
        let outerLog = EventLog(in: outer)
        let innerLog = EventLog(in: inner)
        outer.spawn(name: "outer") {
            inner.spawn(name: "inner") { await innerLog.note("inner") }
            _ = inner.run()
            Task { await outerLog.note("after inner run") }
        }
        #expect(outer.run() == .finished)
        #expect(outer.labels(of: outerLog) == ["after inner run"])
        #expect(inner.labels(of: innerLog) == ["inner"])
    }

    @Test("a task started on another thread while a process runs stays out of the simulation")
    func otherThreadsKeepTheGlobalExecutor() async {
        /// Events of a process that (optionally) has another thread start a task, and waits until it has.
        func events(startingTaskElsewhere: Bool) async -> UInt64 {
            let simulation = makeSimulation()
            let outside = OutsideTask()
            simulation.spawn(name: "starter") {
                guard startingTaskElsewhere else { return }
                let created = DispatchSemaphore(value: 0)
                Thread {
                    outside.task.withLock { $0 = Task {} }
                    created.signal()
                }.start()
                // Not a pool thread, so this wait ends whatever the pool is doing.
                created.wait()
            }
            #expect(simulation.run() == .finished)
            await outside.task.withLock { $0 }?.value
            #expect(simulation.executor.foreignEnqueueCount == 0)
            return simulation.eventCount
        }
        // Taken into the simulation, the task would be one more event.
        #expect(await events(startingTaskElsewhere: true) == events(startingTaskElsewhere: false))
    }
}

/// A task started outside the simulation, kept so the test can wait for it.
final class OutsideTask: Sendable {
    let task = Mutex<Task<Void, Never>?>(nil)
}
