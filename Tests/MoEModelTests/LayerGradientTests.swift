import Testing
import Tensors

@testable import MoEModel

/// Finite-difference checks of every layer's B (input) and W (weight) gradients.
@Suite struct LayerGradientTests {
    let model: MoETransformer
    let parameters: ParameterSet
    let input: Tensor

    init() throws {
        model = try MoETransformer(config: TestModels.tiny())
        parameters = try TestModels.parameters(model, seed: 7)
        input = try TestModels.random([6, 8], seed: 8, scale: 1)
    }

    @Test func rmsNorm() throws {
        let norm = model.blocks[0].attentionNorm
        let check = try GradientCheck(input: input, parameters: parameters, seed: 1) { x, p in
            (try norm.forward(x, parameters: p).output, nil)
        }
        let cache = try norm.forward(input, parameters: parameters).cache
        try check.verify(names: [norm.weightName]) { try norm.backwardInput($0, cache: cache, parameters: parameters) }
    }

    @Test func attention() throws {
        let attention = model.blocks[0].attention
        let check = try GradientCheck(input: input, parameters: parameters, seed: 2) { x, p in
            (try attention.forward(x, sequenceLength: 3, parameters: p).output, nil)
        }
        let cache = try attention.forward(input, sequenceLength: 3, parameters: parameters).cache
        try check.verify(names: attention.weightNames) {
            try attention.backwardInput($0, cache: cache, parameters: parameters)
        }
    }

    @Test func denseSwiGLU() throws {
        guard case .dense(let ffn) = model.blocks[0].feedForward else {
            Issue.record("layer 0 should be dense")
            return
        }
        let check = try GradientCheck(input: input, parameters: parameters, seed: 3) { x, p in
            (try ffn.forward(x, parameters: p).output, nil)
        }
        let cache = try ffn.forward(input, parameters: parameters).cache
        try check.verify(names: [ffn.gateWeightName, ffn.upWeightName, ffn.downWeightName]) {
            try ffn.backwardInput($0, cache: cache, parameters: parameters)
        }
    }

    @Test(arguments: GateKind.allCases)
    func mixtureOfExperts(gate: GateKind) throws {
        let model = try MoETransformer(config: TestModels.tiny(gate: gate))
        let parameters = try TestModels.parameters(model, seed: 7)
        guard case .moe(let moe) = model.blocks[1].feedForward else {
            Issue.record("layer 1 should be MoE")
            return
        }
        let check = try GradientCheck(input: input, parameters: parameters, seed: 4) { x, p in
            let (output, cache) = try moe.forward(x, parameters: p)
            return (output, cache.routing)
        }
        let cache = try moe.forward(input, parameters: parameters).cache
        #expect(cache.routing.tokensPerExpert.filter { $0 > 0 }.count >= 3, "routing should spread over experts")
        // Experts that received tokens have non-zero weight gradients to check.
        let usedExperts = zip(moe.routedExperts, cache.routing.tokensPerExpert).filter { $1 > 0 }.map(\.0)
        let names =
            [moe.router.weightName]
            + (usedExperts + moe.sharedExperts).flatMap { [$0.gateWeightName, $0.upWeightName, $0.downWeightName] }
        try check.verify(names: names) { try moe.backwardInput($0, cache: cache, parameters: parameters) }
    }

    @Test(arguments: [0, 1])
    func transformerBlock(layer: Int) throws {
        let block = model.blocks[layer]
        let check = try GradientCheck(input: input, parameters: parameters, seed: 5) { x, p in
            let (output, cache) = try block.forward(x, sequenceLength: 2, parameters: p)
            return (output, cache.routing)
        }
        let cache = try block.forward(input, sequenceLength: 2, parameters: parameters).cache
        let names = block.parameterShapes.map(\.name).filter { !$0.contains(".experts.") }
        try check.verify(names: names) { try block.backwardInput($0, cache: cache, parameters: parameters) }
    }
}
