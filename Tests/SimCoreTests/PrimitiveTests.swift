import Testing

@testable import SimCore

@Suite("Synchronisation primitives")
struct PrimitiveTests {
    @Test("a mailbox delivers in send order and send never blocks")
    func mailboxKeepsOrder() {
        let simulation = makeSimulation()
        let mailbox = Mailbox<Int>("numbers", in: simulation)
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "receiver") {
            for _ in 0..<6 { await log.note("got \(await mailbox.receive())") }
        }
        simulation.spawn(name: "sender") {
            for value in 0..<3 { await mailbox.send(value) }
            try await clock.sleep(for: .microseconds(1))
            for value in 3..<6 { await mailbox.send(value) }
            await log.note("sent all")
        }
        #expect(simulation.run() == .finished)
        let labels = simulation.labels(of: log)
        #expect(labels.filter { $0.hasPrefix("got") } == (0..<6).map { "got \($0)" })
        #expect(labels.contains("sent all"))
        #expect(simulation.times(of: log) == [0, 0, 0, 1_000, 1_000, 1_000, 1_000])
        #expect(simulation.inspect(mailbox) { $0.pendingCount } == 0)
    }

    @Test("a latch releases every waiter once opened and stays open")
    func latchReleasesAll() {
        let simulation = makeSimulation()
        let latch = Latch("start", in: simulation)
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        for index in 0..<3 {
            simulation.spawn(name: "w\(index)") {
                await latch.wait()
                await log.note("w\(index)")
            }
        }
        simulation.spawn(name: "opener") {
            try await clock.sleep(for: .nanoseconds(42))
            await latch.open()
            await latch.wait()
            await log.note("opener")
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == ["opener", "w0", "w1", "w2"])
        #expect(Set(simulation.times(of: log)) == [42])
    }

    @Test("a semaphore admits its permit count at a time, FIFO")
    func semaphoreLimitsConcurrency() {
        let simulation = makeSimulation()
        let semaphore = SimSemaphore("slots", permits: 2, in: simulation)
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        for index in 0..<5 {
            simulation.spawn(name: "job\(index)") {
                await semaphore.acquire()
                try await clock.sleep(for: .nanoseconds(100))
                await log.note("job\(index)")
                await semaphore.release()
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == ["job0", "job1", "job2", "job3", "job4"])
        #expect(simulation.times(of: log) == [100, 100, 200, 200, 300])
        #expect(simulation.inspect(semaphore) { $0.availablePermits } == 2)
    }

    @Test("waits on latches and semaphores show in the deadlock report")
    func primitivesAppearInDeadlockReport() {
        let simulation = makeSimulation()
        let latch = Latch("never", in: simulation)
        let semaphore = SimSemaphore("empty", permits: 0, in: simulation)
        simulation.spawn(name: "a") { await latch.wait() }
        simulation.spawn(name: "b") { await semaphore.acquire() }
        simulation.spawn(name: "c") {}
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected a deadlock")
            return
        }
        #expect(report.waiters.map(\.process) == ["a", "b"])
        #expect(report.waiters.map(\.waitsOn) == ["latch 'never'", "semaphore 'empty'"])
    }

    @Test("a large deadlock report lists the first waiters and counts the rest")
    func largeDeadlockReportIsCapped() {
        let simulation = makeSimulation()
        let latch = Latch("never", in: simulation)
        for index in 0..<40 { simulation.spawn(name: "p\(index)") { await latch.wait() } }
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected a deadlock")
            return
        }
        #expect(report.waiters.count == 40)
        #expect(report.description.hasPrefix("40 process(es) wait forever: p0 waits on latch 'never'"))
        #expect(report.description.hasSuffix("p15 waits on latch 'never'; and 24 more"))
    }
}
