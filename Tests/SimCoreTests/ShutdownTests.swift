import Testing

@testable import SimCore

@Suite("Shutdown and cancellation")
struct ShutdownTests {
    @Test("shutdown cancels sleepers and reports the processes it could not end as leaked")
    func shutdownReport() {
        let simulation = makeSimulation()
        let clock = simulation.clock
        let mailbox = Mailbox<Int>("never", in: simulation)
        simulation.spawn(name: "sleeper") { try await clock.sleep(for: .seconds(10)) }
        simulation.spawn(name: "listener") { _ = await mailbox.receive() }
        simulation.spawn(name: "quick") {}
        #expect(simulation.run(until: .start + .microseconds(3)) == .reachedTime(.start + .microseconds(3)))
        let report = simulation.shutdown()
        #expect(report.cancelled == ["sleeper"])
        #expect(report.leaked.map(\.process) == ["listener"])
        #expect(report.pendingTimerCount == 0)
        #expect(!report.isClean)
        #expect(
            report.description
                == "shut down at t=3µs: 1 unfinished process(es) cancelled: sleeper; 1 process(es) leaked "
                + "(could not be cancelled): listener waits on \(report.leaked[0].waitsOn)")
        #expect(simulation.isShutDown)
        #expect(simulation.now == .start + .microseconds(3))
    }

    @Test("a finished world shuts down clean")
    func cleanShutdown() {
        let simulation = makeSimulation()
        simulation.spawn(name: "quick") {}
        #expect(simulation.run() == .finished)
        #expect(simulation.shutdown().isClean)
    }

    @Test("cancel ends one sleeping process at once without moving the clock")
    func cancelOne() {
        let simulation = makeSimulation()
        let clock = simulation.clock
        let id = simulation.spawn(name: "sleeper") {
            do { try await clock.sleep(for: .seconds(1)) } catch { return }
        }
        #expect(simulation.run(until: .start + .microseconds(1)) == .reachedTime(.start + .microseconds(1)))
        simulation.cancel(id)
        #expect(simulation.run() == .finished)
        #expect(simulation.now == .start + .microseconds(1))
    }
}
