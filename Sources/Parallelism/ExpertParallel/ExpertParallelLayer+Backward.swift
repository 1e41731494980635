import Hardware
import MoEModel
import SimCore
import Tensors

extension ExpertParallelLayer {
    /// One rank's backward result.
    public struct BackwardResult: Sendable {
        /// B's gradient for the rank's input tokens, and the W tasks deferred on this GPU: its routed experts'
        /// (over the rows they received), its shared experts' and its router's (over its own tokens).
        public var input: InputBackward
        /// When the rank's backward started and ended, and the bytes it sent.
        public var start: SimInstant
        public var end: SimInstant
        public var traffic: EPTraffic
        /// FLOPs of the deferred W work (from shapes, so phantom runs charge what real ones do).
        public var weightFLOPs: Int
        /// The same FLOPs by precision (zero when the W work already ran).
        public var weightWork = EPWeightWork()
    }

    /// One rank's B pass: combine backward on the token's rank, output gradients dispatched to the experts
    /// (BF16), expert B on the expert's GPU, input gradients combined back (BF16), shared experts and router
    /// backward on the token's rank. Every rank calls it concurrently with its forward's `tagBase`.
    ///
    /// The dispatch, experts' B and combine follow the layer's mode as forward does (serial; comet's tiles and
    /// column blocks; waved: the forward's waves, a wave's B starting when its gradients arrived and its input
    /// gradients returning while the next wave computes); the values do not depend on the mode.
    ///
    /// `weightsNow` queues the W work on the compute SMs right after the experts' B and the shared experts' B
    /// (before the combine's all-to-all ends, as DualPipe's F&B cell does) and returns once it ran; the result's
    /// `weightFLOPs` is then 0.
    public func backward(
        rank: Int, outputGradient: Tensor, cache: Cache, parameters: ParameterSet, tagBase: Int,
        weightsNow: Bool = false
    ) async throws -> BackwardResult {
        let simulation = communicator.cluster.simulation
        let key = -1 - tagBase
        // With synchronised phases B starts after the barrier, as the forward starts together on every rank.
        await synchronize(key, phase: 0)
        let start = simulation.now
        let routing = cache.routing
        let phantom = cache.phantom
        var expertGradients: [Tensor]
        var weightGradients: [Float] = []
        if phantom {
            expertGradients = cache.expertOutputs
        } else {
            (expertGradients, weightGradients) = try MoELayer.combineBackward(
                outputGradient, expertOutputs: cache.expertOutputs, routing: routing)
        }
        let gradients = expertGradients
        try await launchKernel(rank: rank)
        var expertTasks = [[WeightGradientTask]](repeating: [], count: placement.expertsPerRank)
        let outcome = try await runPipeline(
            .backward, rank: rank, waves: cache.waveLayouts, tagBase: tagBase, syncKey: key, phantom: phantom,
            shared: [sharedKernel(.backward, rows: routing.tokenCount * layer.sharedExperts.count)]
                + (weightsNow ? weightWork(cache: cache, rank: rank).kernels(name: "experts W") : []),
            outgoing: { layout in try gradientRows(gradients, layout: layout) },
            values: { inputs in
                try expertInputGradients(inputs, rank: rank, cache: cache, parameters: parameters, tasks: &expertTasks)
            })
        var tasks = expertTasks.flatMap { $0 }
        let traffic = outcome.dispatchTraffic + outcome.combineTraffic
        var inputGradient: Tensor
        if phantom {
            inputGradient = try Tensor(phantom: [routing.tokenCount, hiddenSize])
        } else {
            inputGradient = try MoELayer.dispatchBackward(outcome.expertOutputs, routing: routing)
            for (expert, sharedCache) in zip(layer.sharedExperts, cache.sharedCaches) {
                let result = try expert.backwardInput(outputGradient, cache: sharedCache, parameters: parameters)
                inputGradient = try inputGradient.adding(result.inputGradient)
                tasks += result.weightTasks
            }
            if let routerCache = cache.routerCache {
                let gate = try layer.router.backwardInput(
                    weightGradients: weightGradients, cache: routerCache, parameters: parameters)
                inputGradient = try inputGradient.adding(gate.inputGradient)
                tasks += gate.weightTasks
            }
        }
        try await charge(gateKernel(tokens: routing.tokenCount), rank: rank)
        if outcome.sharedEnd > simulation.now { try await simulation.clock.sleep(until: outcome.sharedEnd) }
        try recordBackward(rank: rank, .backward, from: start, bytes: traffic.bytes)
        await exchange.finish(tagBase: key)
        return BackwardResult(
            input: InputBackward(inputGradient: inputGradient, weightTasks: tasks), start: start, end: simulation.now,
            traffic: traffic, weightFLOPs: weightsNow ? 0 : Int(weightFLOPs(cache: cache, rank: rank)),
            weightWork: weightsNow ? EPWeightWork() : weightWork(cache: cache, rank: rank))
    }

    /// Per target rank: this rank's output gradients for the target's experts that `layout` keeps, in canonical
    /// order (expert, then token); nil where none.
    func gradientRows(_ gradients: [Tensor], layout: SourceLayout) throws -> [Tensor?] {
        if gradients.isEmpty { return try phantomGradientRows(layout: layout) }
        return try (0..<placement.rankCount).map { target -> Tensor? in
            let parts = placement.experts(ofRank: target).filter { layout.expertCounts[$0] > 0 }.map { gradients[$0] }
            return parts.isEmpty ? nil : (parts.count == 1 ? parts[0] : try Tensor.concatenatingRows(parts))
        }
    }

    /// `gradientRows` of a phantom call (whose forward kept no per-expert rows): per target rank, phantom rows
    /// of this rank's slot count for its experts.
    private func phantomGradientRows(layout: SourceLayout) throws -> [Tensor?] {
        try phantomRowSet(
            .gradients, rank: layout.rank, width: hiddenSize, dtype: .fp32, layouts: CollectionOfOne(layout)
        ) {
            try layout.slotsToRank.map { $0.isEmpty ? nil : try Tensor(phantom: [$0.count, hiddenSize]) }
        }
    }

    /// The local experts' input gradients for the output gradients `inputs` (per local expert, nil: none); each
    /// expert's W tasks go to `tasks[index]`, so their order never depends on the waves.
    func expertInputGradients(
        _ inputs: [Tensor?], rank: Int, cache: Cache, parameters: ParameterSet, tasks: inout [[WeightGradientTask]]
    ) throws -> [Tensor?] {
        try placement.experts(ofRank: rank).enumerated().map { index, expert -> Tensor? in
            guard let gradient = inputs[index] else { return nil }
            guard let expertCache = cache.expertCaches[index] else {
                return try Tensor(phantom: [gradient.rowCount, hiddenSize])
            }
            let result = try layer.routedExperts[expert].backwardInput(
                gradient, cache: expertCache, parameters: parameters)
            tasks[index] = result.weightTasks
            return result.inputGradient
        }
    }

    /// FLOPs of the rank's deferred W work: its routed experts' over the rows they received, the shared experts'
    /// over its tokens, and the router's when the routing has a router task (not a given or phantom one).
    func weightFLOPs(cache: Cache, rank: Int) -> Double {
        let rows = cache.layouts.reduce(0) { $0 + $1.slotsToRank[rank].count }
        let tokens = cache.routing.tokenCount
        let routerFLOPs =
            cache.routerCache == nil ? 0 : Tensor.matmulFLOPs(m: hiddenSize, k: tokens, n: layer.router.expertCount)
        return expertKernel("W", rows: rows + tokens * layer.sharedExperts.count, experts: 0).flops
            + Double(routerFLOPs)
    }

    /// `weightFLOPs` by precision: the routed experts' at `expertPrecision`, the shared experts' at
    /// `sharedExpertPrecision`, the router's in BF16.
    func weightWork(cache: Cache, rank: Int) -> EPWeightWork {
        let rows = cache.layouts.reduce(0) { $0 + $1.slotsToRank[rank].count }
        let tokens = cache.routing.tokenCount
        let routerFLOPs =
            cache.routerCache == nil ? 0 : Tensor.matmulFLOPs(m: hiddenSize, k: tokens, n: layer.router.expertCount)
        var work = EPWeightWork(
            expertKernel("W", rows: rows, experts: 0).flops, at: options.expertPrecision.kernelPrecision,
            efficiency: swiGLUEfficiency(
                rows: rows / placement.expertsPerRank, grouped: true, format: options.expertPrecision))
        work.add(
            expertKernel("W", rows: tokens * layer.sharedExperts.count, experts: 0).flops,
            at: options.sharedExpertPrecision.kernelPrecision,
            efficiency: swiGLUEfficiency(rows: tokens, grouped: false, format: options.sharedExpertPrecision))
        work.add(Double(routerFLOPs), at: .bf16)
        return work
    }

    /// Runs the W tasks of `result` on the rank's compute SMs (time from `weightFLOPs`, which equals the tasks'
    /// FLOPs in a real run) and returns their gradients (none in a phantom run).
    public func runWeightTasks(rank: Int, _ result: BackwardResult) async throws -> [(String, Tensor)] {
        let start = communicator.cluster.simulation.now
        try await charge(Kernel(name: "W", flops: Double(result.weightFLOPs), hbmBytes: 0), rank: rank)
        try recordBackward(rank: rank, .weights, from: start, bytes: 0)
        return try result.input.weightTasks.map { ($0.parameterName, try $0.gradient()) }
    }
}
