import SimCore

/// A node of the randomised test workload: counts and traces the messages it receives.
actor WorkloadNode: SimulatedActor {
    nonisolated let simulation: Simulation
    let name: String
    let track: TraceTrackID
    private(set) var received = 0

    init(index: Int, in simulation: Simulation) {
        self.simulation = simulation
        name = "node\(index)"
        track = simulation.trace.track(actor: name, lane: "inbox")
    }

    func receive(from sender: String, sentAt: SimInstant) {
        received += 1
        simulation.trace.span(track, "msg", start: sentAt, end: simulation.now, args: ["from": .string(sender)])
    }
}

/// `nodeCount` actors each send `messagesPerNode` messages to random peers after random delays, all drawn from
/// the simulation's seed.
func spawnRandomWorkload(on simulation: Simulation, nodeCount: Int = 100, messagesPerNode: Int = 20) {
    let nodes = (0..<nodeCount).map { WorkloadNode(index: $0, in: simulation) }
    let clock = simulation.clock
    for (index, node) in nodes.enumerated() {
        var random = simulation.random.stream(named: "node\(index)")
        simulation.spawn(name: node.name) {
            for _ in 0..<messagesPerNode {
                try await clock.sleep(for: .nanoseconds(Int64(random.nextInt(below: 1_000))))
                let sentAt = clock.now
                let peer = nodes[random.nextInt(below: nodeCount)]
                try await clock.sleep(for: .nanoseconds(Int64(100 + random.nextInt(below: 5_000))))
                await peer.receive(from: node.name, sentAt: sentAt)
            }
        }
    }
}
