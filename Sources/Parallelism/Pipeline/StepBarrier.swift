import SimCore

/// Lines the stage workers up between steps: arrival k of every worker releases them all together.
actor StepBarrier: SimulatedActor {
    nonisolated let simulation: Simulation
    let participantCount: Int
    private var arrivals: [Int] = []
    private var latches: [Latch] = []
    /// When each round released, in round order.
    private(set) var releaseTimes: [SimInstant] = []

    init(participants: Int, in simulation: Simulation) {
        self.simulation = simulation
        participantCount = participants
    }

    /// Waits until every participant has arrived at `round`.
    func arrive(round: Int) async {
        while latches.count <= round {
            arrivals.append(0)
            latches.append(Latch("pipeline barrier \(latches.count)", in: simulation))
        }
        arrivals[round] += 1
        if arrivals[round] == participantCount {
            releaseTimes.append(simulation.now)
            await latches[round].open()
        } else {
            await latches[round].wait()
        }
    }
}
