import MoEModel
import Tensors

/// Tiny configs and seeded tensors shared by the model tests.
enum TestModels {
    /// Two layers (dense then MoE), 4 routed experts top-2 and 1 shared expert, hidden 8 in 2 heads.
    static func tiny(gate: GateKind = .softmax) -> MoEConfig {
        MoEConfig(
            vocabularySize: 11, hiddenSize: 8, layerCount: 2, headCount: 2, routedExpertCount: 4,
            sharedExpertCount: 1, topK: 2, expertWidth: 6, denseWidth: 10, denseLayerCount: 1, gateKind: gate)
    }

    /// A tensor of normal values times `scale`.
    static func random(_ shape: [Int], seed: UInt64, scale: Float) throws -> Tensor {
        var generator = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        return try Tensor(shape: shape, values: (0..<count).map { _ in generator.nextNormal() * scale })
    }

    /// Initial parameters with norm scales moved away from 1, so their role in the gradients is exercised.
    static func parameters(_ model: MoETransformer, seed: UInt64) throws -> ParameterSet {
        var parameters = try model.initialParameters(seed: seed)
        for (index, entry) in parameters.entries.enumerated() where entry.tensor.rank == 1 {
            let noise = try random(entry.tensor.shape, seed: seed &+ UInt64(index), scale: 0.3)
            try parameters.update(entry.name, to: entry.tensor.adding(noise))
        }
        return parameters
    }
}
