import SimCore

/// One node of the actor-kernel run: sends from inside its own actor method, receives from its peers.
actor BenchNode: SimulatedActor {
    nonisolated let simulation: Simulation
    let index: Int
    private(set) var checksum: UInt64 = 0

    init(index: Int, in simulation: Simulation) {
        self.index = index
        self.simulation = simulation
    }

    /// Sends this node's messages in order, sleeping until each one's arrival time, then delivering it.
    func sendAll(to nodes: [BenchNode], workload: AllToAllWorkload) async {
        let clock = simulation.clock
        for k in 1..<workload.nodeCount {
            await clock.sleepUncancellable(
                until: SimInstant(nanosecondsSinceStart: workload.arrivalNs(of: index, message: k)))
            await nodes[workload.destination(of: index, message: k)].deliver(from: index)
        }
    }

    func deliver(from sender: Int) {
        checksum = AllToAllWorkload.fold(checksum, timeNs: simulation.now.nanosecondsSinceStart, sender: sender)
    }
}

/// The all-to-all workload on the actor kernel: one actor and one process per node.
enum ActorKernelWorkload {
    /// Runs every delivery and returns (stop reason, timeline checksum, executor jobs run).
    static func run(_ workload: AllToAllWorkload) -> (reason: StopReason, checksum: UInt64, jobs: UInt64) {
        let simulation = Simulation(storesTraceEvents: false)
        let nodes = (0..<workload.nodeCount).map { BenchNode(index: $0, in: simulation) }
        for node in nodes {
            simulation.spawn(name: "node\(node.index)") { await node.sendAll(to: nodes, workload: workload) }
        }
        let reason = simulation.run()
        let checksums = nodes.map { node in simulation.inspect(node) { $0.checksum } }
        return (reason, AllToAllWorkload.combine(checksums), simulation.eventCount)
    }
}
