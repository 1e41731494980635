import Hardware
import MoEModel
import SimCore
import Tensors

/// One GPU of a pipeline group: holds its stages' copies and walks its op list from `Schedules` verbatim.
///
/// Receives are posted by `recv` ops and awaited before the next compute op (all of them, as the reference's
/// `batch_isend_irecv` + wait does); sends leave when the worker reaches them; B pushes its W tasks on a FIFO
/// that W pops in order and that must be empty at the end of the step. Each op kind has its own method in
/// `StageWorker+Ops.swift`, and its time is charged in one place, `StageCompute`.
actor StageWorker: SimulatedActor {
    nonisolated let simulation: Simulation
    /// The pipeline rank (index into the schedule's devices).
    let rank: Int
    let gpu: GPU
    let schedule: PipelineSchedule
    let compute: StageCompute
    let transport: any StageTransport
    let tags: PipelineTags
    /// The micro-batches (nil in phantom runs).
    let data: PipelineData?
    /// [tokens, hidden] of one micro-batch: the shape of every activation and gradient between stages.
    let activationShape: [Int]
    let recorder: PipelineRecorder
    /// Its data-parallel group (nil: one pipeline group, plain data-parallel model states).
    let dataParallel: StageDataParallel?
    var replicas: [StageReplica]
    /// The trace lane (`gpuN` / `pipeline`) where every compute op is a span (`PipelineOp.recordSpan`).
    let track: TraceTrackID

    var caches: [PipelineChunk: ModelStage.Cache] = [:]  // lookup only, never iterated
    /// The caches of expert-parallel copies' chunks.
    var expertCaches: [PipelineChunk: StageExpertParallel.ChunkCache] = [:]  // lookup only, never iterated
    var inbox: [PipelineTransfer: Tensor] = [:]  // lookup only, never iterated
    var outbox: [PipelineTransfer: Tensor] = [:]  // lookup only, never iterated
    var pendingReceives: [PipelineTransfer] = []
    /// DualPipe's `WeightGradientStore`: B's deferred W tasks, oldest first.
    /// Expert-parallel copies add their EP layers' W work.
    var weightQueue: [(chunk: PipelineChunk, tasks: [WeightGradientTask], expertWeights: EPWeightWork)] = []
    /// Whether an F&B op runs its two chunks at once (DualPipe's overlap), when both are expert-parallel.
    let overlapsChunks: Bool
    var step = 0
    var stepStart = SimInstant.start
    var spans: [OpSpan] = []
    var losses: [(microBatch: Int, loss: Float)] = []
    /// Where this step's time goes (`StageWorker+Accounting.swift`).
    var accounting = StepAccounting(start: .start)
    /// The schedule phase of each compute op of the rank's list, in order.
    let computePhases: [SchedulePhaseBreakdown.Phase]
    /// Whether each copy's ZeRO-1 starts as soon as its gradients are final, under the rest of the schedule
    /// (`StageWorker+ZeROOverlap.swift`), instead of after it; only with a data-parallel group.
    let overlapsZeRO: Bool
    /// When this step's ZeRO-1 AdamW kernels occupied the compute SMs (for `StepAccounting`).
    var optimizerKernels: [Range<SimInstant>] = []
    /// `replicas=once` (`StageWorker+Shadow.swift`): where this worker's twin posts its finished copies, when
    /// this worker is a shadow that runs no schedule op.
    let twin: Mailbox<Int?>?
    /// The mailboxes of the shadows that follow this worker.
    let shadows: [Mailbox<Int?>]

    init(
        rank: Int, gpu: GPU, schedule: PipelineSchedule, compute: StageCompute, transport: any StageTransport,
        data: PipelineData?, activationShape: [Int], recorder: PipelineRecorder, replicas: [StageReplica],
        dataParallel: StageDataParallel? = nil, overlapsChunks: Bool = true, overlapsZeRO: Bool = false,
        twin: Mailbox<Int?>? = nil, shadows: [Mailbox<Int?>] = []
    ) {
        simulation = gpu.simulation
        self.rank = rank
        self.gpu = gpu
        self.schedule = schedule
        self.compute = compute
        self.transport = transport
        tags = PipelineTags(
            stageCount: schedule.stageCount, microBatchesPerDirection: schedule.microBatchesPerDirection)
        self.data = data
        self.activationShape = activationShape
        self.recorder = recorder
        self.dataParallel = dataParallel
        self.replicas = replicas
        self.overlapsChunks = overlapsChunks
        self.overlapsZeRO = overlapsZeRO && dataParallel != nil
        self.twin = twin
        self.shadows = shadows
        track = gpu.simulation.trace.track(actor: gpu.name, lane: "pipeline")
        computePhases = SchedulePhaseBreakdown.phases(of: schedule.devices[rank]).compactMap { $0 }
    }

    /// Charges the replicas' parameters, gradients and AdamW state on HBM: 2 + 2 + 12 bytes per parameter
    /// (ZeRO's plain model states), the AdamW state only for the worker's shard under ZeRO-1.
    func allocateModelStates() async throws {
        let states = modelStateMemory
        try await gpu.allocate(states.parameterBytes, .parameters)
        try await gpu.allocate(states.gradientBytes, .gradients)
        try await gpu.allocate(states.optimizerBytes, .optimizerState)
    }

    /// Releases what `allocateModelStates` charged, as a finished training process would (peaks stay on record).
    func releaseModelStates() async throws {
        let states = modelStateMemory
        try await gpu.free(states.parameterBytes, .parameters)
        try await gpu.free(states.gradientBytes, .gradients)
        try await gpu.free(states.optimizerBytes, .optimizerState)
    }

    /// Runs step `index`: every op of the rank's list in order, then the optimizer.
    func runStep(_ index: Int) async throws {
        step = index
        stepStart = simulation.now
        spans = []
        losses = []
        optimizerKernels = []
        await beginStepAccounting()
        if let twin {
            try await runShadowStep(following: twin)
            return
        }
        if overlapsZeRO, let dataParallel {
            try await runOverlappedStep(dataParallel)
            return
        }
        do {
            for op in schedule.devices[rank] { try await run(op) }
            try await endSchedule()
        } catch {
            await notifyShadows(nil)
            throw error
        }
        await notifyShadows(nil)
        let finishStart = simulation.now
        try await finishStep()
        await recordStepAccounting(optimizer: finishStart..<simulation.now)
    }

    /// Checks the schedule left nothing behind and records the step's spans and losses.
    func endSchedule() async throws {
        try checkDrained()
        let recordsSpans = (dataParallel?.dataIndex ?? 0) == 0
        await recorder.record(step: step, rank: recordsSpans ? rank : nil, spans: spans, losses: losses)
    }

    /// The parameters of every stage copy this worker holds, for the final comparison.
    func stageParameters() -> [(stage: Int, direction: PipelineDirection, parameters: ParameterSet)] {
        replicas.map { ($0.stageIndex, $0.direction, $0.parameters) }
    }

    func run(_ op: PipelineOp) async throws {
        switch op.kind {
        case .send(let transfer): try await send(transfer)
        case .receive(let transfer): pendingReceives.append(transfer)
        default: try await computeOp(op)
        }
        // Progress only (`Simulation.work`): a plain counter, no event, no effect on the timeline.
        simulation.work.complete()
    }

    /// Awaits the posted receives, then runs the op's numerics and charges its time, holding its activations.
    private func computeOp(_ op: PipelineOp) async throws {
        try await awaitPostedReceives()
        await openInterval()
        let start = simulation.now
        try await allocateActivations(for: op)
        let parts = try await work(of: op, label: GanttChart.label(op))
        try await compute.charge(op, parts: parts, on: gpu)
        try await freeActivations(after: op)
        await closeInterval(computeInterval)
        op.recordSpan(on: track, start: start, end: simulation.now, in: simulation.trace)
        spans.append(OpSpan(op: op, start: .start + (start - stepStart), end: .start + (simulation.now - stepStart)))
    }

    private func checkDrained() throws {
        guard weightQueue.isEmpty else {
            throw PipelineError.brokenSchedule(
                "rank \(rank) ends step \(step) with \(weightQueue.count) W task(s) left, first \(weightQueue[0].chunk)"
            )
        }
        guard pendingReceives.isEmpty, caches.isEmpty, expertCaches.isEmpty, inbox.isEmpty, outbox.isEmpty else {
            throw PipelineError.brokenSchedule(
                "rank \(rank) ends step \(step) with \(pendingReceives.count) posted receive(s), "
                    + "\(inbox.count + outbox.count) unconsumed message(s) and "
                    + "\(caches.count + expertCaches.count) forward(s) without backward")
        }
    }
}
