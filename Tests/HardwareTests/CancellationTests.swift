import Testing

@testable import Hardware
@testable import SimCore

/// `GPU.receive` and `SendHandle.wait` honour cancellation: `Simulation.shutdown` (and `cancel`) end processes
/// that wait on a message, with no waiter left behind, instead of leaking them.
@Suite("Cancellation of message waits")
struct CancellationTests {
    @Test("shutdown ends a receiver and a sender held by a down link: cancelled, none leaked, no waiter left")
    func shutdownEndsMessageWaits() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        try cluster.inject(.linkDown(link: "gpu0.comm.out"))
        let message = try phantomMessage(bytes: 400_000)
        let (source, destination) = (cluster.gpus[0], cluster.gpus[3])
        let outcomes = Collector<String>(in: simulation)
        let handles = Collector<SendHandle>(in: simulation)
        simulation.spawn(name: "sender") {
            let handle = try await source.startSend(message, to: destination.id, tag: 7)
            await handles.set(0, handle)
            do { try await handle.wait() } catch is CancellationError { await outcomes.set(0, "cancelled") }
        }
        simulation.spawn(name: "receiver") {
            do { _ = try await destination.receive(from: source.id, tag: 7) } catch is CancellationError {
                await outcomes.set(1, "cancelled")
            }
        }
        guard case .blocked = simulation.run() else {
            Issue.record("expected a blocked run")
            return
        }
        let handle = try #require(simulation.inspect(handles) { $0.values[0] })
        #expect(simulation.inspect(destination) { $0.waitingReceiverCount } == 1)
        #expect(handle.waiterCount == 1)
        let report = simulation.shutdown()
        #expect(report.cancelled == ["sender", "receiver"])
        #expect(report.leaked.isEmpty, "\(report)")
        #expect(simulation.liveProcessCount == 0)
        #expect(simulation.inspect(outcomes) { $0.values } == [0: "cancelled", 1: "cancelled"])
        #expect(simulation.inspect(destination) { $0.waitingReceiverCount } == 0)
        #expect(handle.waiterCount == 0)
        // The message itself is still held by the down link, not lost: it stays pending for a later receive.
        #expect(simulation.inspect(destination) { $0.pendingMessageCount(from: source.id, tag: 7) } == 1)
    }

    @Test("a cancelled receiver gives up its place: the next receive of the same key gets the message")
    func cancelledReceiverSkipped() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let message = try phantomMessage(bytes: 4096)
        let (source, destination) = (cluster.gpus[0], cluster.gpus[1])
        let clock = simulation.clock
        let received = Collector<Int>(in: simulation)
        let first = simulation.spawn(name: "first") {
            _ = try await destination.receive(from: source.id, tag: 3)
            await received.set(1, 1)
        }
        simulation.spawn(name: "second") {
            try await clock.sleep(until: .start + .microseconds(1))
            let tensor = try await destination.receive(from: source.id, tag: 3)
            await received.set(2, tensor.elementCount)
        }
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("expected both receivers to wait")
            return
        }
        #expect(report.processNames == ["first", "second"])
        #expect(simulation.inspect(destination) { $0.waitingReceiverCount } == 2)
        simulation.cancel(first)
        // The first receiver ends (its process fails with CancellationError); the second still waits, first now.
        #expect(simulation.step(events: 100) == .processFailed(process: "first", error: "CancellationError()"))
        #expect(simulation.inspect(destination) { $0.waitingReceiverCount } == 1)
        simulation.spawn(name: "sender") { try await source.send(message, to: destination.id, tag: 3) }
        #expect(simulation.run() == .finished)
        #expect(simulation.inspect(received) { $0.values } == [2: 1024])
        #expect(simulation.inspect(destination) { $0.pendingMessageCount(from: source.id, tag: 3) } == 0)
    }

    @Test("cancelled while the message is already on its way: shutdown mid-transfer ends every waiter")
    func shutdownMidTransfer() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: simulation)
        let message = try phantomMessage(bytes: 4 << 20)
        let (source, destination) = (cluster.gpus[0], cluster.gpus[9])
        simulation.spawn(name: "sender") { try await source.send(message, to: destination.id, tag: 1) }
        simulation.spawn(name: "receiver") { _ = try await destination.receive(from: source.id, tag: 1) }
        #expect(simulation.run(until: .start + .microseconds(5)) == .reachedTime(.start + .microseconds(5)))
        let report = simulation.shutdown()
        #expect(report.leaked.isEmpty, "\(report)")
        #expect(report.cancelled == ["sender", "receiver"])
        #expect(simulation.liveProcessCount == 0)
    }
}
