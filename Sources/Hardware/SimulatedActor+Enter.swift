import SimCore

extension SimulatedActor {
    /// Runs `operation` isolated to this actor, synchronously, from code already on the simulation's executor
    /// (every simulated actor shares it): `assumeIsolated` without its executor check and, inlined, without
    /// allocating the closure's context. For the per-chunk hops of the fabric; call it only from a simulated
    /// actor or process of the same simulation.
    @inline(__always)
    nonisolated func enter<T>(_ operation: (isolated Self) -> T) -> T {
        typealias Plain = (Self) -> T
        return withoutActuallyEscaping(operation) { isolated in unsafeBitCast(isolated, to: Plain.self)(self) }
    }
}
