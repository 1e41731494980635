import SimCore

/// What the stage workers report after each step: the executed ops in time and the losses of the last stage.
actor PipelineRecorder: SimulatedActor {
    nonisolated let simulation: Simulation
    let deviceCount: Int
    let microBatchCount: Int

    /// One step as executed.
    struct StepRecord: Sendable {
        /// Per device, its compute ops placed in time from the step's start.
        var spans: [[OpSpan]]
        /// Per micro-batch of the step (global index), its loss, once the last stage computed it.
        var losses: [Float?]
    }

    private(set) var steps: [StepRecord] = []

    init(deviceCount: Int, microBatchCount: Int, in simulation: Simulation) {
        self.simulation = simulation
        self.deviceCount = deviceCount
        self.microBatchCount = microBatchCount
    }

    func record(step: Int, rank: Int?, spans: [OpSpan], losses: [(microBatch: Int, loss: Float)]) {
        while steps.count <= step {
            steps.append(
                StepRecord(
                    spans: Array(repeating: [], count: deviceCount),
                    losses: Array(repeating: nil, count: microBatchCount)))
        }
        if let rank { steps[step].spans[rank] = spans }
        for entry in losses { steps[step].losses[entry.microBatch] = entry.loss }
    }
}
