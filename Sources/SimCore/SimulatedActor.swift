/// An actor that lives on a simulation's executor, so its methods run in virtual time.
public protocol SimulatedActor: Actor {
    /// The simulation the actor belongs to.
    nonisolated var simulation: Simulation { get }
}

extension SimulatedActor {
    /// Every simulated actor shares its simulation's single-threaded executor.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        simulation.executor.asUnownedSerialExecutor()
    }
}
