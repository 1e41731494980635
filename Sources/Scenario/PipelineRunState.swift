import SimCore

/// Where a queued pipeline `train` stands, for `show schedule`.
enum PipelineRunState {
    case pending
    case finished(PipelineRunSummary)
    /// A stage worker threw: the first error.
    case failed(String)
}

/// The first error a queued pipeline train's workers threw; nil while it runs and after it succeeded.
actor PipelineFailure: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var message: String?

    init(in simulation: Simulation) { self.simulation = simulation }

    func record(_ error: any Error) { message = message ?? String(describing: error) }
}
