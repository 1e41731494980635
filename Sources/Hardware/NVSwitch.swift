import SimCore

/// A node's NVSwitch: one egress port per GPU of the node, at NVLink bandwidth (`node1.nvswitch.port3.out`).
public actor NVSwitch: SimulatedActor {
    public nonisolated let simulation: Simulation
    /// `node1.nvswitch`.
    public nonisolated let name: String
    /// Egress port `i` leads to the node's GPU `i`.
    public nonisolated let outPorts: [Link]

    init(name: String, outPorts: [Link], in simulation: Simulation) {
        self.simulation = simulation
        self.name = name
        self.outPorts = outPorts
    }
}
