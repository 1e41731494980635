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
    /// The largest relative difference of any rank's parameters against `reference`: per rank
    /// max |p − p_ref| / max |p_ref| over the whole vector (the infinity-norm relative error); nil when phantom.
    public func maxRelativeDifference(to reference: [Float]) -> Double? {
        guard let rankParameters else { return nil }
        let scale = reference.reduce(0) { max($0, Double(abs($1))) }
        return rankParameters.map { parameters -> Double in
            guard parameters.count == reference.count else { return .infinity }
            let difference = zip(parameters, reference).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
            return difference / max(scale, .leastNonzeroMagnitude)
        }.max()
    }
}
