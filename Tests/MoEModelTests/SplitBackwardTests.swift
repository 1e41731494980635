import Testing
import Tensors

@testable import MoEModel

/// The zero-bubble split of the whole model: B alone, then every deferred W task, against central differences.
///
/// `backward` and `backwardInput` share one code path, so comparing them with each other proves little. This
/// suite compares what B + W produce with the loss itself, perturbed one coordinate at a time.
@Suite struct SplitBackwardTests {
    let model: MoETransformer
    let parameters: ParameterSet
    /// Two sequences of 3; tokens 0, 5 and 10 appear so the first, middle (row 5) and last (row 10)
    /// coordinates of the 11 x 8 embedding all receive gradient.
    let batch: TokenBatch
    /// Central-difference step, as in `GradientCheck`.
    let step: Float = 1e-2
    /// Absolute slack per coordinate: the Float loss (about 2.4) is rounded to ~2e-7, which the difference
    /// quotient turns into ~1e-5 of gradient; observed deviations stay below 6e-6 beyond the relative 1 %.
    let noiseFloor: Float = 3e-5

    init() throws {
        model = try MoETransformer(config: TestModels.tiny())
        // Seed 25: no perturbation below flips a routing decision and every routed expert receives tokens.
        parameters = try TestModels.parameters(model, seed: 25)
        batch = try TokenBatch(tokens: [0, 5, 10, 3, 7, 2], targets: [5, 10, 3, 7, 2, 9], sequenceLength: 3)
    }

    /// The first, middle and last coordinates of a tensor of `count` elements.
    private static func coordinates(count: Int) -> [Int] { [0, count / 2, count - 1] }

    /// Mean loss of the batch and the experts each MoE layer chose.
    private func loss(_ parameters: ParameterSet) throws -> (loss: Double, routing: [[Int]?]) {
        let pass = try model.forward(batch, parameters: parameters)
        return (Double(pass.loss), pass.blockCaches.map { $0.routing?.experts })
    }

    /// The loss's central difference at `index` of the parameter `name`, with the routing of both sides.
    private func centralDifference(_ name: String, at index: Int) throws -> (gradient: Float, routings: [[[Int]?]]) {
        let tensor = try parameters.tensor(name)
        var values = try tensor.scalars()
        let original = values[index]
        var changed = parameters
        values[index] = original + step
        try changed.update(name, to: Tensor(shape: tensor.shape, values: values))
        let up = try loss(changed)
        values[index] = original - step
        try changed.update(name, to: Tensor(shape: tensor.shape, values: values))
        let down = try loss(changed)
        return (Float((up.loss - down.loss) / Double(2 * step)), [up.routing, down.routing])
    }

    /// Every one of the 34 parameter tensors: B + all W tasks agree with the loss's central differences.
    @Test func deferredGradientsMatchFiniteDifferencesForEveryParameter() throws {
        let pass = try model.forward(batch, parameters: parameters)
        let routing = try #require(pass.blockCaches[1].routing)
        #expect(routing.tokensPerExpert.allSatisfy { $0 > 0 }, "idle expert: \(routing.tokensPerExpert)")
        let baselineRouting = pass.blockCaches.map { $0.routing?.experts }

        var gradients = try parameters.zeros()
        try model.backwardInput(pass, parameters: parameters).accumulate(into: &gradients)

        #expect(parameters.entries.count == 34)
        for entry in parameters.entries {
            let analyticAll = try gradients.tensor(entry.name).scalars()
            var largest: Float = 0
            for index in Self.coordinates(count: entry.tensor.elementCount) {
                let (numeric, routings) = try centralDifference(entry.name, at: index)
                #expect(routings.allSatisfy { $0 == baselineRouting }, "\(entry.name)[\(index)]: routing flipped")
                let analytic = analyticAll[index]
                #expect(
                    abs(analytic - numeric) <= 1e-2 * abs(numeric) + noiseFloor,
                    "\(entry.name)[\(index)]: B + W gives \(analytic), finite differences \(numeric)")
                largest = max(largest, abs(numeric))
            }
            // A tensor whose sampled gradient is all noise would make the check above vacuous.
            #expect(largest > 1e-3, "\(entry.name): sampled gradient \(largest) is too small to check")
        }
    }
}
