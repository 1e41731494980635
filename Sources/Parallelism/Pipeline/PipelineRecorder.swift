import SimCore

/// What the stage workers report after each step: the executed ops in time, the losses of the last stage, and
/// every GPU's step accounting and HBM peaks.
actor PipelineRecorder: SimulatedActor {
    nonisolated let simulation: Simulation
    let deviceCount: Int
    let gpuCount: Int
    let microBatchCount: Int

    /// One GPU's step as accounted.
    struct GPURecord: Sendable {
        var accounting: StepAccounting
        /// Peak bytes per `MemoryKind` during the step.
        var peakBytesByKind: [Int]
        /// Peak bytes of all kinds together during the step, and the HBM's capacity.
        var peakBytes: Int
        var capacityBytes: Int
        /// The schedule phases from the worker's step start to `end` (the gaps to the barriers not yet added).
        var schedulePhases: SchedulePhaseBreakdown
        /// When the worker finished the step.
        var end: SimInstant
    }

    /// One step as executed.
    struct StepRecord: Sendable {
        /// Per device, its compute ops placed in time from the step's start.
        var spans: [[OpSpan]]
        /// Per micro-batch of the step (global index), its loss, once the last stage computed it.
        var losses: [Float?]
        /// Per GPU of the trainer (p·DP + d), its accounting, once it finished the step.
        var gpus: [GPURecord?]
    }

    private(set) var steps: [StepRecord] = []

    init(deviceCount: Int, gpuCount: Int, microBatchCount: Int, in simulation: Simulation) {
        self.simulation = simulation
        self.deviceCount = deviceCount
        self.gpuCount = gpuCount
        self.microBatchCount = microBatchCount
    }

    func record(step: Int, rank: Int?, spans: [OpSpan], losses: [(microBatch: Int, loss: Float)]) {
        grow(to: step)
        if let rank { steps[step].spans[rank] = spans }
        for entry in losses { steps[step].losses[entry.microBatch] = entry.loss }
    }

    func recordAccounting(step: Int, gpu: Int, record: GPURecord) {
        grow(to: step)
        steps[step].gpus[gpu] = record
    }

    private func grow(to step: Int) {
        while steps.count <= step {
            steps.append(
                StepRecord(
                    spans: Array(repeating: [], count: deviceCount),
                    losses: Array(repeating: nil, count: microBatchCount),
                    gpus: Array(repeating: nil, count: gpuCount)))
        }
    }
}
