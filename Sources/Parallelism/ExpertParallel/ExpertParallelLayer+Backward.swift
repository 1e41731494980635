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
    }

    /// One rank's B pass: combine backward on the token's rank, output gradients dispatched to the experts
    /// (BF16), expert B on the expert's GPU, input gradients combined back (BF16), shared experts and router
    /// backward on the token's rank. Every rank calls it concurrently with its forward's `tagBase`.
    /// `weightsNow` queues the W work on the compute SMs right after the experts' B (before the combine's
    /// all-to-all ends, as DualPipe's F&B cell does) and returns once it ran; `runWeightTasks` then charges nothing
    /// more for it (`weightFLOPs` is 0).
    public func backward(
        rank: Int, outputGradient: Tensor, cache: Cache, parameters: ParameterSet, tagBase: Int,
        weightsNow: Bool = false
    ) async throws -> BackwardResult {
        let simulation = communicator.cluster.simulation
        let start = simulation.now
        let key = -1 - tagBase
        let routing = cache.routing
        let layout = cache.layouts[rank]
        let phantom = cache.phantom
        var expertGradients: [Tensor]
        var weightGradients: [Float] = []
        if phantom {
            expertGradients = cache.expertOutputs
        } else {
            (expertGradients, weightGradients) = try MoELayer.combineBackward(
                outputGradient, expertOutputs: cache.expertOutputs, routing: routing)
        }
        let outgoing = try (0..<placement.rankCount).map { target -> Tensor? in
            let parts = placement.experts(ofRank: target).map { expertGradients[$0] }.filter { $0.rowCount > 0 }
            return parts.isEmpty ? nil : (parts.count == 1 ? parts[0] : try Tensor.concatenatingRows(parts))
        }
        await synchronize(key, phase: 0)
        let dispatched = try await dispatchRows(
            rank: rank, outgoing: outgoing, layouts: cache.layouts, legs: .gradientDispatch,
            bytesPerToken: wire.bf16BytesPerToken, tagBase: tagBase, phantom: phantom)
        await synchronize(key, phase: 1)
        let gradients = try rowsByExpert(dispatched.rows, layouts: cache.layouts, rank: rank)
        let rows = gradients.reduce(0) { $0 + ($1?.rowCount ?? 0) }
        let tokens = routing.tokenCount
        // The router's W only when this routing has a router task (not for a given or phantom routing).
        let routerFLOPs =
            cache.routerCache == nil ? 0 : Tensor.matmulFLOPs(m: hiddenSize, k: tokens, n: layer.router.expertCount)
        let weightFLOPs =
            expertKernel("W", rows: rows + tokens * layer.sharedExperts.count, experts: 0).flops + Double(routerFLOPs)
        try await charge(expertKernel("experts B", rows: rows, experts: gradients.count { $0 != nil }), rank: rank)
        var tasks: [WeightGradientTask] = []
        var inputGradients: [Tensor?] = []
        for (index, expert) in placement.experts(ofRank: rank).enumerated() {
            guard let gradient = gradients[index] else {
                inputGradients.append(nil)
                continue
            }
            guard let expertCache = cache.expertCaches[index] else {
                inputGradients.append(try Tensor(phantom: [gradient.rowCount, hiddenSize]))
                continue
            }
            let result = try layer.routedExperts[expert].backwardInput(
                gradient, cache: expertCache, parameters: parameters)
            inputGradients.append(result.inputGradient)
            tasks += result.weightTasks
        }
        await synchronize(key, phase: 2)
        let sharedEnd = try await enqueue(
            expertKernel(
                "shared experts B", rows: routing.tokenCount * layer.sharedExperts.count,
                experts: layer.sharedExperts.count), rank: rank)
        let weightEnd =
            weightsNow
            ? try await enqueue(Kernel(name: "experts W", flops: weightFLOPs, hbmBytes: 0), rank: rank) : start
        let combined = try await combineRows(
            rank: rank, outgoing: try rowsBySource(inputGradients, layouts: cache.layouts, rank: rank),
            layouts: cache.layouts, legs: .gradientCombine, bytesPerToken: wire.bf16BytesPerToken, tagBase: tagBase,
            phantom: phantom)
        let local = try localExpertRows(combined.rows, layout: layout, phantom: phantom)
        var inputGradient: Tensor
        if phantom {
            inputGradient = try Tensor(phantom: [routing.tokenCount, hiddenSize])
        } else {
            inputGradient = try MoELayer.dispatchBackward(local, routing: routing)
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
        let end = max(sharedEnd, weightEnd)
        if end > simulation.now { try await simulation.clock.sleep(until: end) }
        let traffic = dispatched.traffic + combined.traffic
        try recordBackward(rank: rank, "B", from: start, bytes: traffic.bytes)
        await exchange.finish(tagBase: key)
        return BackwardResult(
            input: InputBackward(inputGradient: inputGradient, weightTasks: tasks), start: start, end: simulation.now,
            traffic: traffic, weightFLOPs: weightsNow ? 0 : Int(weightFLOPs))
    }

    /// Runs the W tasks of `result` on the rank's compute SMs (time from `weightFLOPs`, which equals the tasks'
    /// FLOPs in a real run) and returns their gradients (none in a phantom run).
    public func runWeightTasks(rank: Int, _ result: BackwardResult) async throws -> [(String, Tensor)] {
        let start = communicator.cluster.simulation.now
        try await charge(Kernel(name: "W", flops: Double(result.weightFLOPs), hbmBytes: 0), rank: rank)
        try recordBackward(rank: rank, "W", from: start, bytes: 0)
        return try result.input.weightTasks.map { ($0.parameterName, try $0.gradient()) }
    }
}
