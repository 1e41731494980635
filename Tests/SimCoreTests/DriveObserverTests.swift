import Testing

@testable import SimCore

/// Records what a drive observer is told.
final class RecordingObserver: DriveObserver {
    var started: [DriveProgress] = []
    var progressed: [DriveProgress] = []
    var ended: [DriveProgress] = []

    func driveStarted(_ progress: DriveProgress) { started.append(progress) }
    func driveProgressed(_ progress: DriveProgress) { progressed.append(progress) }
    func driveEnded(_ progress: DriveProgress) { ended.append(progress) }
}

@Suite("Drive observer (progress hook)")
struct DriveObserverTests {
    /// The random workload's trace hash and event count, with or without an observer every `interval` events.
    private func run(seed: UInt64, observer: RecordingObserver?, interval: UInt64 = 64) -> (UInt64, UInt64) {
        let simulation = makeSimulation(seed: seed)
        simulation.driveObserver = observer
        simulation.observerInterval = interval
        spawnRandomWorkload(on: simulation, nodeCount: 40, messagesPerNode: 10)
        #expect(simulation.run() == .finished)
        return (simulation.trace.hash, simulation.eventCount)
    }

    @Test("a run with the observer gives the same trace hash and events as one without", arguments: [0, 7] as [UInt64])
    func observerLeavesTheTimelineAlone(seed: UInt64) {
        let observer = RecordingObserver()
        let (plainHash, plainEvents) = run(seed: seed, observer: nil)
        let (observedHash, observedEvents) = run(seed: seed, observer: observer)
        #expect(observedHash == plainHash)
        #expect(observedEvents == plainEvents)
        // Called every 64 events, with growing counts and clock, plus once at each end.
        #expect(observer.progressed.count == Int(plainEvents / 64))
        #expect(observer.progressed.map(\.eventsThisDrive) == (1...observer.progressed.count).map { UInt64($0 * 64) })
        #expect(zip(observer.progressed, observer.progressed.dropFirst()).allSatisfy { $0.now <= $1.now })
        #expect(observer.started.map(\.events) == [0])
        #expect(observer.ended.map(\.events) == [plainEvents])
    }

    @Test("each drive call (step, run until) starts and ends once; the work meter's counts reach the observer")
    func everyDriveIsBracketed() {
        let simulation = makeSimulation()
        let observer = RecordingObserver()
        simulation.driveObserver = observer
        simulation.observerInterval = 1
        simulation.work.expect(4, unit: "ops")
        let clock = simulation.clock
        let work = simulation.work
        simulation.spawn(name: "worker") {
            for _ in 0..<4 {
                try await clock.sleep(for: .microseconds(1))
                work.complete()
            }
        }
        #expect(simulation.step(events: 2) == .reachedEventCount(2))
        #expect(
            simulation.run(until: SimInstant.start + .microseconds(2))
                == .reachedTime(SimInstant.start + .microseconds(2)))
        #expect(simulation.run() == .finished)
        #expect(observer.started.count == 3 && observer.ended.count == 3)
        #expect(observer.ended.last?.workDone == 4 && observer.ended.last?.workTotal == 4)
        #expect(observer.ended.last?.workUnit == "ops")
        #expect(observer.progressed.count == Int(simulation.eventCount))
        simulation.work.reset()
        #expect(simulation.work.total == 0 && simulation.work.done == 0)
    }

    @Test("an observer can stop the run at an event boundary, like Ctrl-C")
    func observerCanRequestStop() {
        final class Stopper: DriveObserver {
            let simulation: Simulation
            init(_ simulation: Simulation) { self.simulation = simulation }
            func driveStarted(_ progress: DriveProgress) {}
            func driveProgressed(_ progress: DriveProgress) { if progress.events >= 100 { simulation.requestStop() } }
            func driveEnded(_ progress: DriveProgress) {}
        }
        let simulation = makeSimulation()
        let stopper = Stopper(simulation)
        simulation.driveObserver = stopper
        simulation.observerInterval = 10
        spawnRandomWorkload(on: simulation, nodeCount: 20, messagesPerNode: 20)
        #expect(simulation.run() == .interrupted)
        #expect(simulation.eventCount == 100)
        simulation.driveObserver = nil
        #expect(simulation.run() == .finished)
    }
}
