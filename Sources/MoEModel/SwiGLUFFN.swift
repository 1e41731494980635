import Tensors

/// A SwiGLU feed-forward network, y = (silu(x Wg) * (x Wu)) Wd, used for dense FFNs and for every expert.
///
/// It works on any set of token rows, so expert-parallel code can run an expert on tokens gathered from
/// other ranks.
public struct SwiGLUFFN: Sendable {
    /// Parameter name prefix: the weights are `<prefix>.w_gate`, `<prefix>.w_up` ([hidden, width]) and
    /// `<prefix>.w_down` ([width, hidden]).
    public let prefix: String

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var input: Tensor
        public var gateProjection: Tensor
        public var upProjection: Tensor
        public var hidden: Tensor
    }

    /// An FFN whose weights are named under `prefix`.
    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Name of Wg.
    public var gateWeightName: String { prefix + ".w_gate" }
    /// Name of Wu.
    public var upWeightName: String { prefix + ".w_up" }
    /// Name of Wd.
    public var downWeightName: String { prefix + ".w_down" }

    /// Names and shapes of the three weight matrices, in canonical order.
    public func parameterShapes(hiddenSize: Int, width: Int) -> [(name: String, shape: [Int])] {
        [
            (gateWeightName, [hiddenSize, width]), (upWeightName, [hiddenSize, width]),
            (downWeightName, [width, hiddenSize]),
        ]
    }

    /// The FFN applied to each row of `input` ([rows, hidden]).
    public func forward(_ input: Tensor, parameters: ParameterSet) throws -> (output: Tensor, cache: Cache) {
        let gate = try input.matmul(parameters.tensor(gateWeightName))
        let up = try input.matmul(parameters.tensor(upWeightName))
        let hidden = try gate.silu().multiplying(up)
        let output = try hidden.matmul(parameters.tensor(downWeightName))
        return (output, Cache(input: input, gateProjection: gate, upProjection: up, hidden: hidden))
    }

    /// B: the input gradient; the three weight gradients are returned as deferred W tasks.
    public func backwardInput(
        _ outputGradient: Tensor, cache: Cache, parameters: ParameterSet
    ) throws -> InputBackward {
        let hiddenGradient = try outputGradient.matmul(parameters.tensor(downWeightName), transposeOther: true)
        let upGradient = try hiddenGradient.multiplying(cache.gateProjection.silu())
        let gateGradient = try hiddenGradient.multiplying(cache.upProjection)
            .multiplying(cache.gateProjection.siluDerivative())
        let inputGradient = try gateGradient.matmul(parameters.tensor(gateWeightName), transposeOther: true)
            .adding(upGradient.matmul(parameters.tensor(upWeightName), transposeOther: true))
        let tasks: [WeightGradientTask] = [
            .linear(parameter: gateWeightName, input: cache.input, outputGradient: gateGradient),
            .linear(parameter: upWeightName, input: cache.input, outputGradient: upGradient),
            .linear(parameter: downWeightName, input: cache.hidden, outputGradient: outputGradient),
        ]
        return InputBackward(inputGradient: inputGradient, weightTasks: tasks)
    }
}
