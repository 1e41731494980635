import Hardware
import MoEModel
import SimCore
import Tensors

extension ExpertParallelLayer {
    /// What the dispatch-experts-combine part of one forward call produced on one rank.
    struct PipelineOutcome: Sendable {
        /// Per routed expert: the rows of this rank's slots (the combine's result).
        var expertOutputs: [Tensor]
        /// Per local expert: its cache over the rows from every source.
        var caches: [SwiGLUFFN.Cache?]
        var dispatchTraffic = EPTraffic()
        var combineTraffic = EPTraffic()
        var dispatchEnd = SimInstant.start
        var combineStart = SimInstant.start
        /// When the shared experts' kernel ends.
        var sharedEnd = SimInstant.start
    }

    private enum Event: Sendable {
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

    /// Dispatch, the rank's experts and combine in the layer's mode, from the full `layouts` of the call.
    func runPipeline(
        rank: Int, input: Tensor, layouts: [SourceLayout], parameters: ParameterSet, tagBase: Int, phantom: Bool,
        sharedRows: Int
    ) async throws -> PipelineOutcome {
        let tokens = Double(layouts.reduce(0) { $0 + $1.tokenCount }) / Double(layouts.count)
        let plan = try wavePlan(tokensPerRank: tokens)
        if options.mode == .comet {
            return try await runComet(
                rank: rank, input: input, layouts: layouts, parameters: parameters, tagBase: tagBase,
                phantom: phantom, sharedRows: sharedRows)
        }
        let waveLayouts =
            plan.waveCount == 1
            ? [layouts]
            : (0..<plan.waveCount).map { wave in
                layouts.map {
                    $0.restricted(
                        to: plan.experts(ofWave: wave), placement: placement, maxPieces: options.maxPiecesPerNode,
                        minPieceTokens: options.minPieceTokens)
                }
            }
        let simulation = communicator.cluster.simulation
        let waveCount = plan.waveCount
        var outcome = PipelineOutcome(
            expertOutputs: [], caches: Array(repeating: nil, count: placement.expertsPerRank))
        var returned = [[Tensor?]](repeating: [], count: waveCount)
        try await withThrowingTaskGroup(of: Event.self) { group in
            func startDispatch(_ wave: Int) {
                let sub = waveLayouts[wave]
                group.addTask {
                    let result = try await dispatchRows(
                        rank: rank, outgoing: try outgoingRows(input, layout: sub[rank]), layouts: sub,
                        legs: EPLegs.dispatch.sub(wave), bytesPerToken: wire.dispatchBytesPerToken,
                        tagBase: tagBase, phantom: phantom)
                    return .dispatched(wave: wave, rows: result.rows, traffic: result.traffic)
                }
            }
            startDispatch(0)
            for try await event in group {
                switch event {
                case .dispatched(let wave, let rows, let traffic):
                    outcome.dispatchTraffic = outcome.dispatchTraffic + traffic
                    if wave + 1 < waveCount {
                        startDispatch(wave + 1)
                    } else {
                        outcome.dispatchEnd = simulation.now
                    }
                    if options.mode == .serial { await synchronize(tagBase, phase: 1) }
                    let sub = waveLayouts[wave]
                    let computed = try await computeWave(
                        rank: rank, received: rows, layouts: sub, parameters: parameters, phantom: phantom,
                        launched: options.mode == .serial || wave == 0, caches: &outcome.caches)
                    if wave + 1 == waveCount {
                        outcome.sharedEnd = try await enqueue(sharedKernel(rows: sharedRows), rank: rank)
                    }
                    if options.mode == .serial {
                        try await simulation.clock.sleep(until: computed.end)
                        await synchronize(tagBase, phase: 2)
                    }
                    if wave == 0 { outcome.combineStart = max(simulation.now, computed.end) }
                    group.addTask {
                        if computed.end > simulation.now { try await simulation.clock.sleep(until: computed.end) }
                        if options.mode == .serial { try await launchKernel(rank: rank) }
                        let result = try await combineRows(
                            rank: rank, outgoing: computed.outputs, layouts: sub, legs: EPLegs.combine.sub(wave),
                            bytesPerToken: wire.bf16BytesPerToken, tagBase: tagBase, phantom: phantom)
                        return .combined(part: wave, rows: result.rows, traffic: result.traffic)
                    }
                case .combined(let wave, let rows, let traffic):
                    outcome.combineTraffic = outcome.combineTraffic + traffic
                    returned[wave] = rows
                }
            }
        }
        let perWave = try (0..<waveCount).map {
            try localExpertRows(returned[$0], layout: waveLayouts[$0][rank], phantom: phantom)
        }
        outcome.expertOutputs = (0..<placement.expertCount).map { expert in
            perWave[(expert % placement.expertsPerRank) / plan.expertsPerWave][expert]
        }
        return outcome
    }

    /// This rank's rows for each target rank, in canonical order, under `layout`.
    func outgoingRows(_ input: Tensor, layout: SourceLayout) throws -> [Tensor?] {
        try (0..<placement.rankCount).map { target -> Tensor? in
            let slots = layout.slotsToRank[target]
            return slots.isEmpty ? nil : try input.gatheringRows(slots.map { $0 / layout.topK })
        }
    }

    /// One wave's experts on the rows it received: queues Linear-1, SwiGLU and Linear-2 on the compute SMs
    /// (FLOPs from the rows received), computes the values, and returns the rows per source and the end time.
    /// Unless `launched`, the kernels are stages of one fused kernel and pay no launch overhead.
    func computeWave(
        rank: Int, received: [Tensor?], layouts: [SourceLayout], parameters: ParameterSet, phantom: Bool,
        launched: Bool, caches: inout [SwiGLUFFN.Cache?]
    ) async throws -> (outputs: [Tensor?], end: SimInstant) {
        let inputs = try rowsByExpert(received, layouts: layouts, rank: rank)
        let rows = inputs.reduce(0) { $0 + ($1?.rowCount ?? 0) }
        let experts = inputs.count { $0 != nil }
        let fused = options.mode != .serial
        _ = try await enqueue(stage(linear1Kernel(rows: rows, experts: experts), launched: launched), rank: rank)
        _ = try await enqueue(stage(activationKernel(rows: rows), launched: !fused), rank: rank)
        let end = try await enqueue(
            stage(linear2Kernel(rows: rows, experts: experts), launched: !fused), rank: rank)
        let outputs = try expertValues(inputs, rank: rank, parameters: parameters, phantom: phantom, caches: &caches)
        return (try rowsBySource(outputs, layouts: layouts, rank: rank), end)
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

    /// The shared experts' kernel on `rows` rows (tokens × shared experts).
    func sharedKernel(rows: Int) -> Kernel {
        expertKernel("shared experts F", rows: rows, experts: layer.sharedExperts.count)
    }
}
