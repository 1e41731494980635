import SimCore

/// An InfiniBand switch: a rail's leaf (down ports to the rail's NICs, up ports to the spines) or a spine
/// (down ports to the leaves).
public actor IBSwitch: SimulatedActor {
    /// Where the switch sits in the fat tree.
    public enum Tier: String, Sendable {
        case leaf
        case spine
    }

    public nonisolated let simulation: Simulation
    /// `leaf3` or `spine2`.
    public nonisolated let name: String
    public nonisolated let tier: Tier
    /// Leaf: port `n` leads to the NIC of node `n` on this rail (`leaf3.down7`). Spine: port `r` leads to leaf `r`.
    public nonisolated let downPorts: [Link]
    /// Leaf only: port `s` leads to spine `s` (`leaf3.up2`).
    public nonisolated let upPorts: [Link]

    init(name: String, tier: Tier, downPorts: [Link], upPorts: [Link], in simulation: Simulation) {
        self.simulation = simulation
        self.name = name
        self.tier = tier
        self.downPorts = downPorts
        self.upPorts = upPorts
    }
}
