import MoEModel
import Testing
import Tensors

/// Central-difference gradient checks for a layer whose output is reduced to a scalar by a fixed projection.
struct GradientCheck {
    /// The layer's forward pass, returning its output and (for MoE) the routing it chose.
    typealias Forward = (Tensor, ParameterSet) throws -> (output: Tensor, routing: RoutingDecision?)

    let input: Tensor
    let parameters: ParameterSet
    let forward: Forward
    let projection: Tensor
    let baselineRouting: RoutingDecision?
    let step: Float = 1e-2

    init(input: Tensor, parameters: ParameterSet, seed: UInt64, forward: @escaping Forward) throws {
        self.input = input
        self.parameters = parameters
        self.forward = forward
        let (output, routing) = try forward(input, parameters)
        projection = try TestModels.random(output.shape, seed: seed, scale: 1)
        baselineRouting = routing
    }

    /// sum(output * projection), accumulated in Double; routing must not change under the perturbations.
    func objective(_ input: Tensor, _ parameters: ParameterSet) throws -> Double {
        let (output, routing) = try forward(input, parameters)
        #expect(routing?.experts == baselineRouting?.experts, "routing flipped under perturbation")
        return zip(try output.scalars(), try projection.scalars()).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Central differences of the objective with respect to every element of `tensor`.
    func numericGradient(of tensor: Tensor, objective: (Tensor) throws -> Double) throws -> [Float] {
        let values = try tensor.scalars()
        return try values.indices.map { index in
            var plus = values
            var minus = values
            plus[index] += step
            minus[index] -= step
            let difference =
                try objective(Tensor(shape: tensor.shape, values: plus))
                - objective(Tensor(shape: tensor.shape, values: minus))
            return Float(difference / Double(2 * step))
        }
    }

    /// Checks the B input gradient and the W weight gradients of the named parameters against differences.
    func verify(names: [String], backward: (Tensor) throws -> InputBackward) throws {
        let result = try backward(projection)
        let inputNumeric = try numericGradient(of: input) { try objective($0, parameters) }
        Self.expectClose(try result.inputGradient.scalars(), inputNumeric, label: "input")
        var gradients = try parameters.zeros()
        try result.weightTasks.accumulate(into: &gradients)
        for name in names {
            let numeric = try numericGradient(of: parameters.tensor(name)) { tensor in
                var changed = parameters
                try changed.update(name, to: tensor)
                return try objective(input, changed)
            }
            Self.expectClose(try gradients.tensor(name).scalars(), numeric, label: name)
        }
    }

    /// Relative error ||analytic - numeric|| / ||numeric|| below 1 %, on a gradient that is not zero.
    static func expectClose(_ analytic: [Float], _ numeric: [Float], label: String) {
        let norm = numeric.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let error = zip(analytic, numeric).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        #expect(analytic.count == numeric.count)
        #expect(norm > 1e-3, "\(label): numeric gradient is zero")
        #expect(error <= 1e-2 * norm, "\(label): relative error \(error / norm)")
    }
}
