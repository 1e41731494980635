import Hardware
import MoEModel
import SimCore
import Tensors

extension ExpertParallelLayer {
    /// What the dispatch-experts-combine part of one call produced on one rank.
    struct PipelineOutcome: Sendable {
        /// Per routed expert: the rows of this rank's slots (the combine's result).
        var expertOutputs: [Tensor] = []
        var dispatchTraffic = EPTraffic()
        var combineTraffic = EPTraffic()
        var dispatchEnd = SimInstant.start
        var combineStart = SimInstant.start
        /// When the shared experts' kernel ends.
        var sharedEnd = SimInstant.start
    }

    /// What one transfer or wave of `runPipeline` delivers to the rank's loop.
    enum Event: Sendable {
        case dispatched(wave: Int, rows: [Tensor?], traffic: EPTraffic)
        case combined(part: Int, rows: [Tensor?], traffic: EPTraffic)
    }

    /// The wave plan of a call whose sources' layouts are `layouts` (the same on every rank).
    public func wavePlan(tokensPerRank: Double) throws -> WavePlan {
        try WavePlan.resolve(
            mode: options.mode, waves: options.waves, expertsPerWave: options.expertsPerWave,
            tokensPerRank: tokensPerRank, topK: layer.router.topK, localExperts: placement.expertsPerRank,
            expertWidth: expertWidth, smCount: communicator.cluster.spec.gpu.smCount)
    }

    /// Per wave of the call's plan (from the mean tokens per rank of `layouts`, so every rank agrees): every
    /// source's layout restricted to the wave's local experts; one wave: `layouts` itself.
    func waveLayouts(_ layouts: [SourceLayout]) throws -> [[SourceLayout]] {
        let tokens = Double(layouts.reduce(0) { $0 + $1.tokenCount }) / Double(layouts.count)
        let plan = try wavePlan(tokensPerRank: tokens)
        guard plan.waveCount > 1 else { return [layouts] }
        return (0..<plan.waveCount).map { wave in
            layouts.map {
                $0.restricted(
                    to: plan.experts(ofWave: wave), placement: placement, maxPieces: options.maxPiecesPerNode,
                    minPieceTokens: options.minPieceTokens)
            }
        }
    }

    /// One direction's dispatch, the rank's experts and combine in the layer's mode. `waves` holds the call's
    /// layouts per wave (one entry outside waved mode); `outgoing(layout)` gives this rank's rows per target
    /// under a layout; `values(inputs)` computes the local experts' rows from their inputs (nil: no rows), once
    /// per wave; `shared` (the shared experts' kernel, and in B the W work when it runs now) is queued after the
    /// routed experts' last kernel. `syncKey` names the phase barriers.
    func runPipeline(
        _ pass: EPPass, rank: Int, waves waveLayouts: [[SourceLayout]], tagBase: Int, syncKey: Int, phantom: Bool,
        shared: [Kernel], outgoing: (SourceLayout) throws -> [Tensor?], values: ([Tensor?]) throws -> [Tensor?]
    ) async throws -> PipelineOutcome {
        if options.mode == .comet {
            return try await runComet(
                pass, rank: rank, layouts: waveLayouts[0], tagBase: tagBase, phantom: phantom, shared: shared,
                outgoing: try outgoing(waveLayouts[0][rank]), values: values)
        }
        let waveCount = waveLayouts.count
        let context = WaveContext(
            pass: pass, rank: rank, waveCount: waveCount, tagBase: tagBase, syncKey: syncKey, phantom: phantom,
            shared: shared)
        let (ran, returned) =
            try await waveCount == 1
            ? runInLine(waveLayouts[0], context, outgoing: outgoing, values: values)
            : runInWaves(waveLayouts, context, outgoing: outgoing, values: values)
        var outcome = ran
        // Phantom runs never read the routed experts' rows back (backward rebuilds their counts from the layout).
        if phantom { return outcome }
        let perWave = try (0..<waveCount).map {
            try localExpertRows(returned[$0], layout: waveLayouts[$0][rank], phantom: phantom)
        }
        let experts = placement.expertsPerRank / waveCount
        outcome.expertOutputs = (0..<placement.expertCount).map { expert in
            perWave[(expert % placement.expertsPerRank) / experts][expert]
        }
        return outcome
    }

    /// One wave in line on the calling worker: no child tasks, whose hops off the worker's actor each cost an
    /// event. Returns the outcome and the combined rows (one entry).
    private func runInLine(
        _ layouts: [SourceLayout], _ context: WaveContext, outgoing: (SourceLayout) throws -> [Tensor?],
        values: ([Tensor?]) throws -> [Tensor?]
    ) async throws -> (PipelineOutcome, [[Tensor?]]) {
        var outcome = PipelineOutcome()
        let dispatched = try await dispatchRows(
            rank: context.rank, outgoing: try outgoing(layouts[context.rank]), layouts: layouts,
            legs: context.pass.dispatchLegs, bytesPerToken: dispatchBytesPerToken(context.pass),
            tagBase: context.tagBase, phantom: context.phantom)
        outcome.dispatchTraffic = dispatched.traffic
        outcome.dispatchEnd = communicator.cluster.simulation.now
        let computed = try await computeWave(
            0, rows: dispatched.rows, layouts: layouts, context, values: values, outcome: &outcome)
        let combined = try await combineWave(0, computed, layouts: layouts, context)
        outcome.combineTraffic = combined.traffic
        return (outcome, [combined.rows])
    }

    /// Several waves in a task group: wave w+1's dispatch starts once wave w's arrived, each wave's combine once
    /// its experts end. Returns the outcome and the combined rows per wave.
    private func runInWaves(
        _ waveLayouts: [[SourceLayout]], _ context: WaveContext, outgoing: (SourceLayout) throws -> [Tensor?],
        values: ([Tensor?]) throws -> [Tensor?]
    ) async throws -> (PipelineOutcome, [[Tensor?]]) {
        let simulation = communicator.cluster.simulation
        let (pass, rank, tagBase, phantom) = (context.pass, context.rank, context.tagBase, context.phantom)
        var outcome = PipelineOutcome()
        var returned = [[Tensor?]](repeating: [], count: waveLayouts.count)
        try await withThrowingTaskGroup(of: Event.self) { group in
            func startDispatch(_ wave: Int) throws {
                let sub = waveLayouts[wave]
                let rows = try outgoing(sub[rank])
                group.addTask {
                    let result = try await dispatchRows(
                        rank: rank, outgoing: rows, layouts: sub, legs: pass.dispatchLegs.sub(wave),
                        bytesPerToken: dispatchBytesPerToken(pass), tagBase: tagBase, phantom: phantom)
                    return .dispatched(wave: wave, rows: result.rows, traffic: result.traffic)
                }
            }
            try startDispatch(0)
            for try await event in group {
                switch event {
                case .dispatched(let wave, let rows, let traffic):
                    outcome.dispatchTraffic = outcome.dispatchTraffic + traffic
                    if wave + 1 < waveLayouts.count {
                        try startDispatch(wave + 1)
                    } else {
                        outcome.dispatchEnd = simulation.now
                    }
                    let computed = try await computeWave(
                        wave, rows: rows, layouts: waveLayouts[wave], context, values: values, outcome: &outcome)
                    group.addTask {
                        let result = try await combineWave(wave, computed, layouts: waveLayouts[wave], context)
                        return .combined(part: wave, rows: result.rows, traffic: result.traffic)
                    }
                case .combined(let wave, let rows, let traffic):
                    outcome.combineTraffic = outcome.combineTraffic + traffic
                    returned[wave] = rows
                }
            }
        }
        return (outcome, returned)
    }

    /// What every wave of one `runPipeline` call shares.
    struct WaveContext: Sendable {
        var pass: EPPass
        var rank: Int
        var waveCount: Int
        var tagBase: Int
        var syncKey: Int
        var phantom: Bool
        var shared: [Kernel]
    }

    /// A wave's rows to combine and when its experts' last kernel ends.
    struct ComputedWave: Sendable {
        var outputs: [Tensor?]
        var end: SimInstant
    }

    /// Once wave `wave`'s `rows` arrived: its experts' kernels (and after the last wave the shared ones), in
    /// serial mode between the phase barriers; notes the shared kernels' end and the first combine's start.
    private func computeWave(
        _ wave: Int, rows: [Tensor?], layouts: [SourceLayout], _ context: WaveContext,
        values: ([Tensor?]) throws -> [Tensor?], outcome: inout PipelineOutcome
    ) async throws -> ComputedWave {
        let simulation = communicator.cluster.simulation
        let serial = options.mode == .serial
        let rank = context.rank
        if serial { await synchronize(context.syncKey, phase: 1) }
        let inputs = try rowsByExpert(rows, layouts: layouts, rank: rank)
        let end = try await queueExperts(context.pass, rank: rank, inputs: inputs, wave: wave)
        let outputs = try rowsBySource(try values(inputs), layouts: layouts, rank: rank)
        if wave + 1 == context.waveCount {
            for kernel in context.shared { outcome.sharedEnd = try await enqueue(kernel, rank: rank) }
        }
        if serial {
            try await simulation.clock.sleep(until: end)
            await synchronize(context.syncKey, phase: 2)
        }
        if wave == 0 { outcome.combineStart = max(simulation.now, end) }
        return ComputedWave(outputs: outputs, end: end)
    }

    /// Wave `wave`'s combine once its experts end (serial mode: after the combine kernel's launch).
    private func combineWave(
        _ wave: Int, _ computed: ComputedWave, layouts: [SourceLayout], _ context: WaveContext
    ) async throws -> (rows: [Tensor?], traffic: EPTraffic) {
        let simulation = communicator.cluster.simulation
        if computed.end > simulation.now { try await simulation.clock.sleep(until: computed.end) }
        if options.mode == .serial { try await launchKernel(rank: context.rank) }
        return try await combineRows(
            rank: context.rank, outgoing: computed.outputs, layouts: layouts, legs: context.pass.combineLegs.sub(wave),
            bytesPerToken: wire.bf16BytesPerToken, tagBase: context.tagBase, phantom: context.phantom)
    }

    /// This rank's rows for each target rank, in canonical order, under `layout`.
    func outgoingRows(_ input: Tensor, layout: SourceLayout) throws -> [Tensor?] {
        if input.isPhantom {
            // Phantom rows carry only their count: no indices to gather.
            let width = input.shape.dropFirst().reduce(1, *)
            return try phantomRowSet(
                .outgoing, rank: layout.rank, width: width, dtype: input.dtype, layouts: CollectionOfOne(layout)
            ) {
                try layout.slotsToRank.map {
                    $0.isEmpty ? nil : try Tensor(phantom: [$0.count, width], dtype: input.dtype)
                }
            }
        }
        return try layout.slotsToRank.map { slots -> Tensor? in
            slots.isEmpty ? nil : try input.gatheringRows(slots.map { $0 / layout.topK })
        }
    }

    /// Queues one wave's three kernels of `pass` on the compute SMs, FLOPs from the rows `inputs` holds (per
    /// local expert); returns when the last ends. Serial: three launched kernels; waved: stages of the layer's
    /// one fused kernel (launched with its dispatch), no launch overhead.
    func queueExperts(_ pass: EPPass, rank: Int, inputs: [Tensor?], wave: Int) async throws -> SimInstant {
        let rows = inputs.reduce(0) { $0 + ($1?.rowCount ?? 0) }
        let experts = inputs.count { $0 != nil }
        let launched = options.mode == .serial
        let suffix = wave == 0 && options.mode == .serial ? "" : " wave \(wave)"
        for kernel in [
            firstGEMM(pass, rows: rows, experts: experts), activationKernel(pass, rows: rows),
        ] {
            _ = try await enqueue(stage(named(kernel, suffix), launched: launched), rank: rank)
        }
        let last = secondGEMM(pass, rows: rows, experts: experts)
        return try await enqueue(stage(named(last, suffix), launched: launched), rank: rank)
    }

    /// `kernel` with `suffix` after its name.
    func named(_ kernel: Kernel, _ suffix: String) -> Kernel {
        var kernel = kernel
        kernel.name += suffix
        return kernel
    }

    /// The routed experts' values on `inputs` (per local expert, nil: no rows); fills their caches.
    func expertValues(
        _ inputs: [Tensor?], rank: Int, parameters: ParameterSet, phantom: Bool, caches: inout [SwiGLUFFN.Cache?]
    ) throws -> [Tensor?] {
        try placement.experts(ofRank: rank).enumerated().map { index, expert -> Tensor? in
            guard let input = inputs[index] else { return nil }
            if phantom { return try Tensor(phantom: [input.rowCount, hiddenSize]) }
            let (output, cache) = try layer.routedExperts[expert].forward(input, parameters: parameters)
            caches[index] = cache
            return output
        }
    }

    /// `kernel`, as a stage of a fused kernel (no launch overhead) unless `launched`.
    func stage(_ kernel: Kernel, launched: Bool) -> Kernel {
        var kernel = kernel
        kernel.launched = launched
        return kernel
    }

    /// The launch of a communication kernel (DeepEP's dispatch or combine, or the fused layer kernel): the GPU's
    /// launch overhead.
    func launchKernel(rank: Int) async throws {
        let overhead = try communicator.gpu(rank: rank).spec.kernelLaunchOverhead
        if overhead > .zero { try await communicator.cluster.simulation.clock.sleep(for: overhead) }
    }

    /// The shared experts' kernel of `pass` on `rows` rows (tokens × shared experts).
    func sharedKernel(_ pass: EPPass, rows: Int) -> Kernel {
        var kernel = expertKernel("shared experts \(pass.letter)", rows: rows, experts: layer.sharedExperts.count)
        kernel.precision = options.sharedExpertPrecision.kernelPrecision
        // Each shared expert is a normal GEMM over every token of the rank.
        kernel.efficiency = swiGLUEfficiency(
            rows: rows / max(1, layer.sharedExperts.count), grouped: false, format: options.sharedExpertPrecision)
        return kernel
    }
}
