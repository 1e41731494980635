import Tensors

/// A mixture-of-experts FFN: gate, dispatch, per-expert SwiGLU, combine, plus shared experts on every token.
///
/// Each step is callable on its own so expert-parallel code can run gate and combine on one rank and the experts
/// on others; `forward` and `backwardInput` compose the steps for a single device.
public struct MoELayer: Sendable {
    /// The gate.
    public let router: Router
    /// Routed experts, in expert index order.
    public let routedExperts: [SwiGLUFFN]
    /// Experts every token passes through.
    public let sharedExperts: [SwiGLUFFN]

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var router: Router.Cache
        public var expertCaches: [SwiGLUFFN.Cache]
        public var expertOutputs: [Tensor]
        public var sharedCaches: [SwiGLUFFN.Cache]
        /// The routing decision of this forward pass.
        public var routing: RoutingDecision { router.routing }
    }

    /// The layer whose parameters are `<prefix>.router`, `<prefix>.experts.<e>.*` and `<prefix>.shared.<s>.*`.
    public init(prefix: String, config: MoEConfig) {
        router = Router(
            weightName: prefix + ".router", expertCount: config.routedExpertCount, topK: config.topK,
            gateKind: config.gateKind, groupCount: config.expertGroupCount, groupLimit: config.expertGroupLimit,
            routeScale: config.routeScale)
        routedExperts = (0..<config.routedExpertCount).map { SwiGLUFFN(prefix: "\(prefix).experts.\($0)") }
        sharedExperts = (0..<config.sharedExpertCount).map { SwiGLUFFN(prefix: "\(prefix).shared.\($0)") }
    }

    /// Names and shapes of the layer's parameters: router, routed experts in order, shared experts.
    public func parameterShapes(hiddenSize: Int, width: Int) -> [(name: String, shape: [Int])] {
        [(router.weightName, [hiddenSize, router.expertCount])]
            + (routedExperts + sharedExperts).flatMap { $0.parameterShapes(hiddenSize: hiddenSize, width: width) }
    }

    /// Dispatch: the input rows each expert receives, in expert order.
    public static func dispatch(_ input: Tensor, routing: RoutingDecision) throws -> [Tensor] {
        try routing.assignments.map { try input.gatheringRows($0.tokens) }
    }

    /// Combine: each token's sum, in slot order, of its experts' output rows times the combine weights.
    public static func combine(_ expertOutputs: [Tensor], routing: RoutingDecision) throws -> Tensor {
        let rows = try expertOutputs.map { try $0.scalars() }
        let width = try combineWidth(expertOutputs, routing: routing)
        var output = [Float](repeating: 0, count: routing.tokenCount * width)
        for (slot, expert) in routing.experts.enumerated() {
            let token = slot / routing.topK
            let source = routing.rowOfSlot[slot] * width
            for column in 0..<width {
                output[token * width + column] += routing.weights[slot] * rows[expert][source + column]
            }
        }
        return try Tensor(shape: [routing.tokenCount, width], values: output)
    }

    /// Combine backward: the gradient of each expert's output rows and of each slot's combine weight.
    public static func combineBackward(
        _ outputGradient: Tensor, expertOutputs: [Tensor], routing: RoutingDecision
    ) throws -> (expertOutputGradients: [Tensor], weightGradients: [Float]) {
        let width = try combineWidth(expertOutputs, routing: routing)
        let dy = try outputGradient.scalars()
        let rows = try expertOutputs.map { try $0.scalars() }
        var expertGradients = rows.map { [Float](repeating: 0, count: $0.count) }
        var weightGradients = [Float](repeating: 0, count: routing.experts.count)
        for (slot, expert) in routing.experts.enumerated() {
            let target = (slot / routing.topK) * width
            let source = routing.rowOfSlot[slot] * width
            var dot: Float = 0
            for column in 0..<width {
                expertGradients[expert][source + column] = routing.weights[slot] * dy[target + column]
                dot += dy[target + column] * rows[expert][source + column]
            }
            weightGradients[slot] = dot
        }
        let gradients = try zip(expertGradients, expertOutputs).map { try Tensor(shape: $1.shape, values: $0) }
        return (gradients, weightGradients)
    }

    /// Dispatch backward: expert input gradients summed back onto their tokens, in ascending expert order.
    public static func dispatchBackward(_ expertInputGradients: [Tensor], routing: RoutingDecision) throws -> Tensor {
        let width = try combineWidth(expertInputGradients, routing: routing)
        var total = try Tensor(zeros: [routing.tokenCount, width])
        for (gradient, assignment) in zip(expertInputGradients, routing.assignments) {
            total = try total.adding(gradient.scatterAddingRows(to: assignment.tokens, rowCount: routing.tokenCount))
        }
        return total
    }

    /// Forward on one device: gate, dispatch, every expert, combine, plus the shared experts.
    public func forward(_ input: Tensor, parameters: ParameterSet) throws -> (output: Tensor, cache: Cache) {
        let (routing, routerCache) = try router.route(input, parameters: parameters)
        let dispatched = try Self.dispatch(input, routing: routing)
        let expertResults = try zip(routedExperts, dispatched).map { try $0.forward($1, parameters: parameters) }
        var output = try Self.combine(expertResults.map(\.output), routing: routing)
        var sharedCaches: [SwiGLUFFN.Cache] = []
        for expert in sharedExperts {
            let (sharedOutput, cache) = try expert.forward(input, parameters: parameters)
            output = try output.adding(sharedOutput)
            sharedCaches.append(cache)
        }
        let cache = Cache(
            router: routerCache, expertCaches: expertResults.map(\.cache),
            expertOutputs: expertResults.map(\.output), sharedCaches: sharedCaches)
        return (output, cache)
    }

    /// B on one device: combine, expert, dispatch and gate backward; all weight gradients deferred as W tasks.
    public func backwardInput(
        _ outputGradient: Tensor, cache: Cache, parameters: ParameterSet
    ) throws -> InputBackward {
        let routing = cache.routing
        let (expertGradients, weightGradients) = try Self.combineBackward(
            outputGradient, expertOutputs: cache.expertOutputs, routing: routing)
        var tasks: [WeightGradientTask] = []
        var expertInputGradients: [Tensor] = []
        for (expert, (gradient, expertCache)) in zip(routedExperts, zip(expertGradients, cache.expertCaches)) {
            let result = try expert.backwardInput(gradient, cache: expertCache, parameters: parameters)
            expertInputGradients.append(result.inputGradient)
            tasks += result.weightTasks
        }
        var inputGradient = try Self.dispatchBackward(expertInputGradients, routing: routing)
        for (expert, expertCache) in zip(sharedExperts, cache.sharedCaches) {
            let result = try expert.backwardInput(outputGradient, cache: expertCache, parameters: parameters)
            inputGradient = try inputGradient.adding(result.inputGradient)
            tasks += result.weightTasks
        }
        let gate = try router.backwardInput(
            weightGradients: weightGradients, cache: cache.router, parameters: parameters)
        tasks += gate.weightTasks
        return InputBackward(inputGradient: try inputGradient.adding(gate.inputGradient), weightTasks: tasks)
    }

    private static func combineWidth(_ expertTensors: [Tensor], routing: RoutingDecision) throws -> Int {
        guard expertTensors.count == routing.expertCount, expertTensors.allSatisfy({ $0.rank == 2 }),
            let width = expertTensors.first?.shape[1], expertTensors.allSatisfy({ $0.shape[1] == width }),
            zip(expertTensors, routing.tokensPerExpert).allSatisfy({ $0.shape[0] == $1 })
        else {
            throw TensorError.shapeMismatch(
                operation: "MoE combine (rows per expert \(routing.tokensPerExpert))",
                shapes: expertTensors.map(\.shape))
        }
        return width
    }
}
