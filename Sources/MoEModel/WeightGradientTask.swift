import Tensors

/// A weight-gradient (W) computation deferred by the input-gradient (B) pass, as zero-bubble schedules need.
///
/// B keeps what W needs (layer inputs and output gradients); W runs later, in any order.
public enum WeightGradientTask: Sendable {
    /// A linear map y = x W: the gradient is x^T dy.
    case linear(parameter: String, input: Tensor, outputGradient: Tensor)
    /// An element-wise scale y = n * g over the last dimension: the gradient sums n * dy over rows.
    case scale(parameter: String, normalized: Tensor, outputGradient: Tensor)
    /// An embedding lookup: row `tokens[i]` of the gradient accumulates row i of dy, in ascending i.
    case embedding(parameter: String, tokens: [Int], vocabularySize: Int, outputGradient: Tensor)

    /// Name of the parameter whose gradient this task computes.
    public var parameterName: String {
        switch self {
        case .linear(let name, _, _), .scale(let name, _, _), .embedding(let name, _, _, _): name
        }
    }

    /// The gradient of the parameter for this micro-batch.
    public func gradient() throws -> Tensor {
        switch self {
        case .linear(_, let input, let outputGradient):
            try input.matmul(outputGradient, transposeSelf: true)
        case .scale(_, let normalized, let outputGradient):
            try normalized.multiplying(outputGradient).sumOverRows()
        case .embedding(_, let tokens, let vocabularySize, let outputGradient):
            try outputGradient.scatterAddingRows(to: tokens, rowCount: vocabularySize)
        }
    }

    /// Matmul FLOPs of the task (2 per multiply-add of a linear; element-wise tasks count 0).
    public var flops: Int {
        guard case .linear(_, let input, let outputGradient) = self, input.rank == 2, outputGradient.rank == 2 else {
            return 0
        }
        return Tensor.matmulFLOPs(m: input.shape[1], k: input.shape[0], n: outputGradient.shape[1])
    }
}

extension Array where Element == WeightGradientTask {
    /// Runs every task and adds its gradient into `gradients` (which must contain the parameter names).
    public func accumulate(into gradients: inout ParameterSet) throws {
        for task in self { try gradients.accumulate(task.parameterName, task.gradient()) }
    }
}

/// The result of an input-gradient (B) pass: the gradient for the layer input and the deferred W work.
public struct InputBackward: Sendable {
    /// Gradient of the loss with respect to the layer input.
    public var inputGradient: Tensor
    /// The W work this B pass deferred.
    public var weightTasks: [WeightGradientTask]

    /// Pairs an input gradient with its deferred W work.
    public init(inputGradient: Tensor, weightTasks: [WeightGradientTask]) {
        self.inputGradient = inputGradient
        self.weightTasks = weightTasks
    }
}
