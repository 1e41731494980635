import Testing
import Tensors

@testable import MoEModel

@Suite struct ModelTests {
    let model: MoETransformer
    let parameters: ParameterSet
    let batch: TokenBatch

    init() throws {
        model = try MoETransformer(config: TestModels.tiny())
        parameters = try TestModels.parameters(model, seed: 11)
        batch = try TokenBatch(tokens: [1, 4, 2, 9, 0, 3], targets: [4, 2, 9, 0, 3, 5], sequenceLength: 3)
    }

    @Test func lossGradientMatchesFiniteDifferences() throws {
        let pass = try model.forward(batch, parameters: parameters)
        let gradients = try model.backward(pass, parameters: parameters)
        let routing = pass.blockCaches.map { $0.routing?.experts }
        for name in ["embedding", "lm_head", "final_norm", "layers.1.moe.router", "layers.0.attn.wk"] {
            let tensor = try parameters.tensor(name)
            let check = try GradientCheck(input: tensor, parameters: parameters, seed: 0) { _, _ in (tensor, nil) }
            let numeric = try check.numericGradient(of: tensor) { changed in
                var perturbed = parameters
                try perturbed.update(name, to: changed)
                let changedPass = try model.forward(batch, parameters: perturbed)
                #expect(changedPass.blockCaches.map { $0.routing?.experts } == routing, "routing flipped")
                return Double(changedPass.loss)
            }
            GradientCheck.expectClose(try gradients.tensor(name).scalars(), numeric, label: name)
        }
    }

    /// B defers exactly one W task per parameter tensor, so running the W tasks in reverse order accumulates
    /// bit-identically to the in-order full backward (two tasks on one tensor would make the sum order-dependent).
    ///
    /// `backward` and `backwardInput` share one code path; that the gradients are right is checked against
    /// finite differences in `SplitBackwardTests`.
    @Test func oneWeightTaskPerParameterSoReverseOrderIsBitIdentical() throws {
        let pass = try model.forward(batch, parameters: parameters)
        let full = try model.backward(pass, parameters: parameters)
        let tasks = try model.backwardInput(pass, parameters: parameters)
        #expect(tasks.map(\.parameterName).sorted() == parameters.entries.map(\.name).sorted())
        var deferred = try parameters.zeros()
        try Array(tasks.reversed()).accumulate(into: &deferred)
        #expect(deferred == full)
    }

    @Test func routingDecisionIsConsistent() throws {
        let pass = try model.forward(batch, parameters: parameters)
        let routing = try #require(pass.blockCaches[1].routing)
        #expect(pass.blockCaches[0].routing == nil)
        #expect(routing.tokensPerExpert.reduce(0, +) == batch.tokens.count * 2)
        for token in 0..<routing.tokenCount {
            let slots = (token * 2)..<(token * 2 + 2)
            #expect(abs(slots.map { routing.weights[$0] }.reduce(0, +) - 1) < 1e-6)
            #expect(routing.experts[slots.lowerBound] != routing.experts[slots.lowerBound + 1])
        }
        for assignment in routing.assignments {
            #expect(assignment.slots.allSatisfy { routing.experts[$0] == assignment.expert })
        }
    }

    /// Gate, dispatch, experts on arbitrary row groups, combine: the same output as the layer's own forward.
    @Test func moeStepsComposeToForward() throws {
        guard case .moe(let moe) = model.blocks[1].feedForward else {
            Issue.record("layer 1 should be MoE")
            return
        }
        let input = try TestModels.random([6, 8], seed: 3, scale: 1)
        let (routing, _) = try moe.router.route(input, parameters: parameters)
        var expertOutputs: [Tensor] = []
        for (expert, rows) in zip(moe.routedExperts, try MoELayer.dispatch(input, routing: routing)) {
            // Rows computed one at a time, as if each came from a different rank.
            let perRow = try (0..<rows.rowCount).map {
                try expert.forward(rows.slicingRows($0..<($0 + 1)), parameters: parameters).output
            }
            expertOutputs.append(perRow.isEmpty ? try Tensor(zeros: [0, 8]) : try Tensor.concatenatingRows(perRow))
        }
        let shared = try moe.sharedExperts[0].forward(input, parameters: parameters).output
        let composed = try MoELayer.combine(expertOutputs, routing: routing).adding(shared)
        #expect(composed == (try moe.forward(input, parameters: parameters).output))
    }

    @Test func parametersAreNamedInCanonicalOrder() throws {
        let names = parameters.entries.map(\.name)
        #expect(names.first == "embedding" && names.last == "lm_head")
        #expect(names.contains("layers.1.moe.experts.3.w_down") && names.contains("layers.1.moe.shared.0.w_up"))
        #expect(names.contains("layers.0.ffn.w_gate") && !names.contains("layers.0.moe.router"))
        let flat = try parameters.flattened()
        #expect(flat.count == parameters.elementCount)
        #expect(try parameters.unflattened(flat) == parameters)
        #expect(throws: ModelError.unknownParameter("nope")) { try parameters.tensor("nope") }
    }

    @Test func invalidConfigsAndBatchesThrow() throws {
        var config = TestModels.tiny()
        config.headCount = 3
        #expect(throws: ModelError.invalidConfig("hiddenSize 8 not divisible by headCount 3")) {
            try MoETransformer(config: config)
        }
        #expect(throws: ModelError.self) { try MoETransformer(config: .deepSeekV3) }
        config = TestModels.tiny()
        config.routedExpertCount = 0
        #expect(throws: ModelError.invalidConfig("topK 2 with 0 routed experts")) { try MoETransformer(config: config) }
        #expect(throws: ModelError.invalidBatch("3 tokens, 3 targets, sequence length 2")) {
            try TokenBatch(tokens: [1, 2, 3], targets: [2, 3, 4], sequenceLength: 2)
        }
    }
}

@Suite struct PhantomAndRoutingTests {
    /// Cost-only runs push phantom tensors through an expert: shapes are checked and kept, nothing is computed.
    @Test func expertAcceptsPhantomRows() throws {
        let expert = SwiGLUFFN(prefix: "expert")
        var parameters = ParameterSet()
        for entry in expert.parameterShapes(hiddenSize: 8, width: 6) {
            try parameters.append(entry.name, Tensor(phantom: entry.shape, dtype: .bf16))
        }
        let output = try expert.forward(Tensor(phantom: [5, 8], dtype: .fp8e4m3), parameters: parameters).output
        #expect(output.isPhantom && output.shape == [5, 8])
        #expect(throws: TensorError.shapeMismatch(operation: "matmul", shapes: [[5, 7], [8, 6]])) {
            try expert.forward(Tensor(phantom: [5, 7]), parameters: parameters)
        }
    }

    @Test func routingDecisionRejectsBadInput() {
        #expect(throws: ModelError.invalidBatch("expert 4 outside 0..<4")) {
            try RoutingDecision(tokenCount: 1, expertCount: 4, topK: 2, experts: [0, 4], weights: [0.5, 0.5])
        }
        #expect(throws: ModelError.invalidBatch("routing of 2 tokens x top-2 with 2 experts, 2 weights")) {
            try RoutingDecision(tokenCount: 2, expertCount: 4, topK: 2, experts: [0, 1], weights: [0.5, 0.5])
        }
    }
}
