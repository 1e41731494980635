import Testing

@testable import SimCore

@Suite("Virtual time")
struct VirtualTimeTests {
    @Test("sleepers wake at their exact deadlines, earliest first")
    func sleepersWakeInDeadlineOrder() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "five") {
            try await clock.sleep(for: .microseconds(5))
            await log.note("five")
        }
        simulation.spawn(name: "three") {
            try await clock.sleep(for: .microseconds(3))
            await log.note("three")
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == ["three", "five"])
        #expect(simulation.times(of: log) == [3_000, 5_000])
        #expect(simulation.now == SimInstant(nanosecondsSinceStart: 5_000))
    }

    @Test("equal deadlines wake in the order the sleeps were scheduled")
    func equalDeadlinesKeepSchedulingOrder() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        for index in 0..<8 {
            simulation.spawn(name: "p\(index)") {
                try await clock.sleep(until: SimInstant(nanosecondsSinceStart: 700))
                await log.note("p\(index)")
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == (0..<8).map { "p\($0)" })
        #expect(Set(simulation.times(of: log)) == [700])
    }

    @Test("a sleep of zero or into the past is a FIFO yield that keeps the clock still")
    func zeroSleepYields() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "a") {
            await log.note("a1")
            try await clock.sleep(for: .zero)
            await log.note("a2")
            try await clock.sleep(until: SimInstant(nanosecondsSinceStart: -5))
            await log.note("a3")
        }
        simulation.spawn(name: "b") {
            await log.note("b1")
            await log.note("b2")
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == ["a1", "b1", "b2", "a2", "a3"])
        #expect(simulation.now == .start)
    }

    @Test("actor messages with modelled latency arrive at exact instants")
    func actorMessagesArriveOnTime() {
        let simulation = makeSimulation()
        let receiver = EventLog(in: simulation)
        let link = DelayLine(latency: .nanoseconds(1_250), to: receiver, in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "sender") {
            for index in 0..<3 {
                await link.send("m\(index)")
                try await clock.sleep(for: .nanoseconds(400))
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: receiver) == ["m0", "m1", "m2"])
        #expect(simulation.times(of: receiver) == [1_250, 1_650, 2_050])
    }

    @Test("a cancelled sleeper is dropped and does not move the clock")
    func cancelledSleepDoesNotAdvanceTime() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "canceller") {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await clock.sleep(for: .seconds(10))
                        await log.note("woke")
                    } catch {
                        await log.note("cancelled")
                    }
                }
                try? await clock.sleep(for: .microseconds(2))
                group.cancelAll()
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == ["cancelled"])
        #expect(simulation.now == SimInstant(nanosecondsSinceStart: 2_000))
        #expect(simulation.executor.foreignEnqueueCount == 0)
    }

    @Test("the uncancellable sleep ignores cancellation and sleeps its full time")
    func uncancellableSleepIgnoresCancellation() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "stubborn") {
            withUnsafeCurrentTask { $0?.cancel() }
            await clock.sleepUncancellable(until: SimInstant(nanosecondsSinceStart: 900))
            await log.note("woke")
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.times(of: log) == [900])
    }

    @Test("a sleep in an already cancelled task throws at once")
    func sleepInCancelledTaskThrows() {
        let simulation = makeSimulation()
        let log = EventLog(in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "self-cancel") {
            withUnsafeCurrentTask { $0?.cancel() }
            do {
                try await clock.sleep(for: .milliseconds(1))
            } catch is CancellationError {
                await log.note("threw")
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.labels(of: log) == ["threw"])
        #expect(simulation.now == .start)
    }

    @Test("a sleep costs one event, in a process body or an actor; a call to a simulated actor costs none")
    func sleepsAndCallsCostOneEventOrNone() {
        /// Events for `rounds` rounds of three sleeps and one actor call, from the process body or an actor.
        func events(rounds: Int, insideActor: Bool) -> UInt64 {
            let simulation = makeSimulation()
            let sleeper = Sleeper(in: simulation)
            if insideActor {
                simulation.spawn(name: "sleeper") { await sleeper.sleep(rounds: rounds) }
            } else {
                simulation.spawn(name: "process") { await Sleeper.sleepAndCall(sleeper, rounds: rounds) }
            }
            #expect(simulation.run() == .finished)
            #expect(simulation.now == SimInstant(nanosecondsSinceStart: Int64(2 * rounds)))
            return simulation.eventCount
        }
        for insideActor in [false, true] {
            #expect(
                events(rounds: 130, insideActor: insideActor) - events(rounds: 10, insideActor: insideActor) == 360,
                "inside an actor: \(insideActor)")
        }
    }
}

/// Sleeps in three ways and takes a call, repeatedly.
actor Sleeper: SimulatedActor {
    nonisolated let simulation: Simulation
    private var calls = 0

    init(in simulation: Simulation) { self.simulation = simulation }

    /// Each round: an uncancellable 1 ns sleep, a cancellable 1 ns sleep, a zero sleep, one call to `sleeper`.
    /// Nonisolated, so it runs on its caller's actor (the process host, or this actor).
    nonisolated static func sleepAndCall(_ sleeper: Sleeper, rounds: Int) async {
        let clock = sleeper.simulation.clock
        for _ in 0..<rounds {
            await clock.sleepUncancellable(until: clock.now + .nanoseconds(1))
            try? await clock.sleep(for: .nanoseconds(1))
            try? await clock.sleep(for: .zero)
            await sleeper.call()
        }
    }

    /// The same rounds, run inside this actor (the call is then to itself).
    func sleep(rounds: Int) async { await Self.sleepAndCall(self, rounds: rounds) }

    func call() { calls += 1 }
}

/// Forwards each message to a log after a fixed latency, the way a link would.
actor DelayLine: SimulatedActor {
    nonisolated let simulation: Simulation
    let latency: SimDuration
    let receiver: EventLog
    private var inFlight = 0

    init(latency: SimDuration, to receiver: EventLog, in simulation: Simulation) {
        self.latency = latency
        self.receiver = receiver
        self.simulation = simulation
    }

    func send(_ message: String) {
        let arrival = simulation.now + latency
        let clock = simulation.clock
        let receiver = receiver
        inFlight += 1
        simulation.spawn(name: "deliver \(message)") {
            try await clock.sleep(until: arrival)
            await receiver.note(message)
        }
    }
}
