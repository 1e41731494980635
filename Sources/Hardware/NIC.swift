import SimCore

/// A GPU's InfiniBand NIC: one egress link to its rail's leaf switch (`gpu9.nic.out`).
public actor NIC: SimulatedActor {
    public nonisolated let simulation: Simulation
    /// `gpu9.nic`.
    public nonisolated let name: String
    /// NIC to leaf.
    public nonisolated let out: Link

    init(name: String, out: Link, in simulation: Simulation) {
        self.simulation = simulation
        self.name = name
        self.out = out
    }
}
