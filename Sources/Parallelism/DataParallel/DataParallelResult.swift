import MoEModel

/// What a data-parallel run measured.
public struct DataParallelResult: Sendable {
    /// One report per step (loss: the global batch's mean, summed in global micro-batch order).
    public var steps: [StepReport]
    /// Ψ.
    public var parameterCount: Int
    /// Bytes each rank sent in DP collectives in the last step (from its `commOut` link), by rank.
    public var bytesSentPerRank: [Int]
    /// Real runs: every rank's own full parameter vector after the last step (stage 3: what its all-gather of
    /// the final shards returned).
    public var rankParameters: [[Float]]?
    /// The model states each rank holds (rank 0), by the formula the run charged.
    public var modelStates: ModelStateMemory
}

extension DataParallelResult {
    /// `train.max_param_diff`: the largest over ranks of `ParameterSet.maxRelativeDifference(to:)` (per tensor)
    /// against `reference`; nil when phantom. Throws when a rank's vector does not fit the reference's layout.
    public func maxRelativeDifference(to reference: ParameterSet) throws -> Double? {
        guard let rankParameters else { return nil }
        var worst = 0.0
        for parameters in rankParameters {
            let difference = try reference.unflattened(parameters).maxRelativeDifference(to: reference)
            if difference > worst || difference.isNaN { worst = difference }
        }
        return worst
    }
}
