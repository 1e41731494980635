import Testing

@testable import SimCore

@Suite("Driving the loop")
struct DrivingTests {
    @Test("run(until:) stops at the limit with now equal to it")
    func runUntilStopsAtLimit() {
        let simulation = makeSimulation()
        spawnRandomWorkload(on: simulation, nodeCount: 10, messagesPerNode: 5)
        let limit = SimInstant(nanosecondsSinceStart: 2_500)
        #expect(simulation.run(until: limit) == .reachedTime(limit))
        #expect(simulation.now == limit)
        #expect(simulation.run(for: .nanoseconds(10)) == .reachedTime(limit + .nanoseconds(10)))
        #expect(simulation.run() == .finished)
        #expect(simulation.now > limit)
        let later = simulation.now + .microseconds(7)
        #expect(simulation.run(until: later) == .finished)
        #expect(simulation.now == later)
    }

    @Test("step(events:) runs exactly that many events")
    func stepRunsExactEventCount() {
        let simulation = makeSimulation()
        spawnRandomWorkload(on: simulation, nodeCount: 10, messagesPerNode: 5)
        #expect(simulation.step(events: 7) == .reachedEventCount(7))
        #expect(simulation.eventCount == 7)
        #expect(simulation.step(events: 1) == .reachedEventCount(1))
        #expect(simulation.eventCount == 8)
    }

    @Test("pausing and resuming gives the same trace as an uninterrupted run", arguments: [1, 2, 3] as [UInt64])
    func resumingMatchesUninterruptedRun(seed: UInt64) {
        let whole = makeSimulation(seed: seed)
        spawnRandomWorkload(on: whole)
        #expect(whole.run() == .finished)

        let pieces = makeSimulation(seed: seed)
        spawnRandomWorkload(on: pieces)
        var stops = 0
        while true {
            let reason =
                stops.isMultiple(of: 2)
                ? pieces.step(events: UInt64(1 + stops % 37))
                : pieces.run(for: .nanoseconds(Int64(stops % 500)))
            stops += 1
            if reason == .finished { break }
        }
        #expect(stops > 20)
        #expect(pieces.trace.hash == whole.trace.hash)
        #expect(pieces.eventCount == whole.eventCount)
    }

    @Test("the same seed gives the same trace; another seed another one", arguments: Array(0..<20) as [UInt64])
    func sameSeedSameTrace(seed: UInt64) {
        func traceHash(seed: UInt64) -> UInt64 {
            let simulation = makeSimulation(seed: seed)
            spawnRandomWorkload(on: simulation)
            #expect(simulation.run() == .finished)
            return simulation.trace.hash
        }
        let first = traceHash(seed: seed)
        #expect(traceHash(seed: seed) == first)
        #expect(traceHash(seed: seed + 1_000) != first)
    }

    @Test("actor state can be read between steps without advancing time")
    func inspectBetweenSteps() {
        let simulation = makeSimulation()
        let node = WorkloadNode(index: 0, in: simulation)
        let clock = simulation.clock
        simulation.spawn(name: "sender") {
            for _ in 0..<4 {
                try await clock.sleep(for: .microseconds(1))
                await node.receive(from: "sender", sentAt: clock.now)
            }
        }
        #expect(simulation.run(until: SimInstant(nanosecondsSinceStart: 2_500)) != .finished)
        let before = (simulation.now, simulation.eventCount)
        #expect(simulation.inspect(node) { $0.received } == 2)
        #expect(simulation.now == before.0 && simulation.eventCount == before.1)
        #expect(simulation.run() == .finished)
        #expect(simulation.inspect(node) { $0.received } == 4)
    }

    @Test("a process that throws stops the run and is named")
    func failingProcessIsReported() {
        struct Boom: Error, CustomStringConvertible { var description: String { "out of cake" } }
        let simulation = makeSimulation()
        let clock = simulation.clock
        simulation.spawn(name: "baker") {
            try await clock.sleep(for: .microseconds(1))
            throw Boom()
        }
        #expect(simulation.run() == .processFailed(process: "baker", error: "out of cake"))
        #expect(simulation.run() == .finished)
    }

    @Test("a stop request interrupts a run, which can then resume")
    func stopRequestInterrupts() {
        let simulation = makeSimulation()
        spawnRandomWorkload(on: simulation, nodeCount: 4, messagesPerNode: 3)
        simulation.requestStop()
        #expect(simulation.run() == .interrupted)
        #expect(simulation.run() == .finished)
    }
}
