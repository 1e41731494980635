/// The actor the processes of one simulation run on. A process body is nonisolated, so it runs on the actor
/// it is called from; calling it here keeps it on the simulation executor: its calls into simulated actors
/// and its sleeps then need no extra hop to the global executor and back (one event per sleep).
actor ProcessHost {
    private let executor: SimExecutor

    init(executor: SimExecutor) { self.executor = executor }

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Starts `body` in a new task; `ended` gets the error it threw, if any.
    func start(
        name: String, _ body: sending @escaping () async throws -> Void,
        ended: @escaping @Sendable (_ error: (any Error)?) -> Void
    ) -> Task<Void, Never> {
        Task(name: name) { await self.run(body, ended: ended) }
    }

    /// Runs `body` isolated to this actor.
    private func run(
        _ body: sending () async throws -> Void, ended: @Sendable (_ error: (any Error)?) -> Void
    ) async {
        do {
            try await body()
            ended(nil)
        } catch {
            ended(error)
        }
    }
}
