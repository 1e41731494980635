import Tensors

/// RMSNorm over the hidden dimension with a learned scale: y = x / rms(x) * g.
public struct RMSNormLayer: Sendable {
    /// Name of the scale vector g in the parameter set.
    public let weightName: String
    /// Added to the mean square.
    public let epsilon: Float

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var normalized: Tensor
        public var inverseRMS: Tensor
    }

    /// A norm whose scale is the parameter `weightName`.
    public init(weightName: String, epsilon: Float) {
        self.weightName = weightName
        self.epsilon = epsilon
    }

    /// y = x / rms(x) * g for each row of x.
    public func forward(_ input: Tensor, parameters: ParameterSet) throws -> (output: Tensor, cache: Cache) {
        let (normalized, inverseRMS) = try input.rmsNormalized(epsilon: epsilon)
        let output = try normalized.multiplyingLastDimension(by: parameters.tensor(weightName))
        return (output, Cache(normalized: normalized, inverseRMS: inverseRMS))
    }

    /// B: dx = (dn - n * mean(dn * n)) / rms with dn = dy * g; W: dg = sum over rows of dy * n.
    public func backwardInput(
        _ outputGradient: Tensor, cache: Cache, parameters: ParameterSet
    ) throws -> InputBackward {
        let normalizedGradient = try outputGradient.multiplyingLastDimension(by: parameters.tensor(weightName))
        let dn = try normalizedGradient.scalars()
        let n = try cache.normalized.scalars()
        let inverse = try cache.inverseRMS.scalars()
        let width = cache.normalized.rowWidth
        var dx = [Float](repeating: 0, count: dn.count)
        for row in 0..<inverse.count {
            let range = (row * width)..<((row + 1) * width)
            var dot: Float = 0
            for index in range { dot += dn[index] * n[index] }
            let mean = dot / Float(width)
            for index in range { dx[index] = (dn[index] - n[index] * mean) * inverse[row] }
        }
        let task = WeightGradientTask.scale(
            parameter: weightName, normalized: cache.normalized, outputGradient: outputGradient)
        return InputBackward(
            inputGradient: try Tensor(shape: outputGradient.shape, values: dx), weightTasks: [task])
    }
}
