import MoEModel
import Tensors
import Testing

@Suite("Node-limited router")
struct NodeLimitedRouterTests {
    /// Tiny config with 8 experts in 4 groups, each token limited to 2 groups, route scale 2.5.
    static func config(gate: GateKind) -> MoEConfig {
        var config = TestModels.tiny(gate: gate)
        config.routedExpertCount = 8
        config.topK = 3
        config.expertGroupCount = 4
        config.expertGroupLimit = 2
        config.routeScale = 2.5
        return config
    }

    @Test(
        "chosen experts lie in at most 2 of 4 groups and weights sum to the route scale", arguments: GateKind.allCases)
    func routing(gate: GateKind) throws {
        let model = try MoETransformer(config: Self.config(gate: gate))
        let parameters = try TestModels.parameters(model, seed: 3)
        guard case .moe(let moe) = model.blocks[1].feedForward else { throw ModelError.unsupported("no MoE layer") }
        let input = try TestModels.random([16, 8], seed: 9, scale: 1)
        let routing = try moe.router.route(input, parameters: parameters).routing
        for token in 0..<16 {
            let experts = routing.experts[(token * 3)..<(token * 3 + 3)]
            #expect(Set(experts.map { $0 / 2 }).count <= 2)
            let total = routing.weights[(token * 3)..<(token * 3 + 3)].reduce(0, +)
            #expect(abs(total - 2.5) < 1e-5)
        }
    }

    // Sigmoid only: softmax scores of 8 experts tie too closely for the 1e-2 perturbation to keep the routing.
    @Test(
        "gradients through the group mask and the route scale match central differences", arguments: [GateKind.sigmoid])
    func gradients(gate: GateKind) throws {
        let model = try MoETransformer(config: Self.config(gate: gate))
        let parameters = try TestModels.parameters(model, seed: 7)
        guard case .moe(let moe) = model.blocks[1].feedForward else { throw ModelError.unsupported("no MoE layer") }
        let input = try TestModels.random([4, 8], seed: 11, scale: 1)
        let check = try GradientCheck(input: input, parameters: parameters, seed: 4) { x, p in
            let (output, cache) = try moe.forward(x, parameters: p)
            return (output, cache.routing)
        }
        let cache = try moe.forward(input, parameters: parameters).cache
        try check.verify(names: [moe.router.weightName]) {
            try moe.backwardInput($0, cache: cache, parameters: parameters)
        }
    }

    @Test("a config whose groups do not fit is refused naming the value")
    func badGroups() {
        var config = TestModels.tiny()
        config.expertGroupCount = 3
        #expect(throws: ModelError.self) { try config.validate() }
        config.expertGroupCount = 2
        config.expertGroupLimit = 3
        #expect(throws: ModelError.self) { try config.validate() }
    }
}
