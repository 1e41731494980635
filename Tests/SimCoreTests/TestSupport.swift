import SimCore

/// A simulation whose executor traps on any foreign enqueue, as every test wants.
func makeSimulation(seed: UInt64 = 0) -> Simulation {
    let simulation = Simulation(seed: seed)
    simulation.executor.trapsOnForeignEnqueue = true
    return simulation
}

/// Collects (label, virtual time) pairs in the order simulated code reports them.
actor EventLog: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var entries: [(label: String, time: SimInstant)] = []

    init(in simulation: Simulation) { self.simulation = simulation }

    /// Records `label` at the current virtual time.
    func note(_ label: String) { entries.append((label, simulation.now)) }

    var labels: [String] { entries.map(\.label) }
    var times: [Int64] { entries.map(\.time.nanosecondsSinceStart) }
}

extension Simulation {
    /// Reads the labels an event log collected, between steps.
    func labels(of log: EventLog) -> [String] { inspect(log) { $0.labels } }
    /// Reads the times an event log collected, in ns.
    func times(of log: EventLog) -> [Int64] { inspect(log) { $0.times } }
}
