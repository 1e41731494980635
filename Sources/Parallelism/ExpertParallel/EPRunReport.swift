import MoEModel
import SimCore
import Tensors

/// The summary of one finished `EPRun`: phase times, bytes, tokens per rank, bandwidths as DeepEP's tests
/// count them, and for real runs the largest relative difference against the single-device layer.
///
/// DeepEP (`tests/legacy/test_internode.py`) divides per-rank bytes by the phase time: RDMA bytes are the
/// rank's distinct (token, node) pairs, its own node included, times the token row (hidden × (1 + 4/128) for
/// FP8, 2 × hidden for BF16); NVL bytes are the distinct tokens the rank receives times the token row. Here the
/// bytes are averaged over ranks and the time is the group's (first start to last end of the phase).
public struct EPRunReport: Sendable {
    /// Forward: first start to last end.
    public var time: SimDuration
    public var dispatchTime: SimDuration
    public var combineTime: SimDuration
    /// B plus the W tasks, first start to last end (nil without backward).
    public var backwardTime: SimDuration?
    /// Forward bytes over IB and NVLink, all ranks (counts exchange included).
    public var ibBytes: Int
    public var nvlinkBytes: Int
    /// Distinct tokens each rank received in dispatch.
    public var tokensPerRank: [Int]
    /// DeepEP-style bandwidths in bytes per second (RDMA ones nil on one node).
    public var dispatchRDMABytesPerSecond: Double?
    public var dispatchNVLBytesPerSecond: Double
    public var combineRDMABytesPerSecond: Double?
    public var combineNVLBytesPerSecond: Double
    /// Real runs: the largest relative difference of the output and of every gradient (nil for phantom).
    public var maxError: Double?
    /// Per rank.
    public var stats: [EPRankStats]
    /// Waves of the layer's plan (1 in serial and comet modes).
    public var waveCount = 1
    /// V4's balance rule: peak expert FLOP/s ÷ link bytes/s over 2·d (<= 1: communication can be hidden).
    public var balanceRatio = 0.0

    /// Most tokens a rank received.
    public var tokensMax: Int { tokensPerRank.max() ?? 0 }
    /// Mean tokens a rank received.
    public var tokensMean: Double { Double(tokensPerRank.reduce(0, +)) / Double(max(1, tokensPerRank.count)) }
}

extension EPRun {
    /// Summarises the run once the simulation has finished it; throws if a rank did not finish.
    public func report() throws -> EPRunReport {
        let simulation = layer.communicator.cluster.simulation
        let (outputs, statsOrNil, backward, weights, ends) = simulation.inspect(log) {
            ($0.outputs, $0.stats, $0.backward, $0.weightGradients, $0.backwardEnds)
        }
        let stats = statsOrNil.compactMap { $0 }
        guard stats.count == statsOrNil.count, outputs.allSatisfy({ $0 != nil }) else {
            throw ExpertParallelError.invalid(
                "moe run", "\(stats.count) of \(statsOrNil.count) ranks", "did not finish")
        }
        func span(_ start: (EPRankStats) -> SimInstant, _ end: (EPRankStats) -> SimInstant) -> SimDuration {
            let first = stats.map(start).min() ?? .start
            let last = stats.map(end).max() ?? .start
            return last - first
        }
        let dispatch = span(\.dispatchStart, \.dispatchEnd)
        let combine = span(\.combineStart, \.combineEnd)
        let ranks = Double(stats.count)
        let pairs = Double(stats.reduce(0) { $0 + $1.tokenNodePairs }) / ranks
        let received = Double(stats.reduce(0) { $0 + $1.receivedTokens }) / ranks
        let dispatchRow = layer.wire.deepEPDispatchBytesPerToken
        let combineRow = Double(layer.wire.bf16BytesPerToken)
        func rate(_ bytes: Double, _ time: SimDuration) -> Double {
            time.nanoseconds > 0 ? bytes / (Double(time.nanoseconds) * 1e-9) : 0
        }
        let multiNode = layer.placement.nodeCount > 1
        var report = EPRunReport(
            time: span(\.start, \.combineEnd), dispatchTime: dispatch, combineTime: combine, backwardTime: nil,
            ibBytes: stats.reduce(0) { $0 + $1.dispatchTraffic.ibBytes + $1.combineTraffic.ibBytes },
            nvlinkBytes: stats.reduce(0) { $0 + $1.dispatchTraffic.nvlinkBytes + $1.combineTraffic.nvlinkBytes },
            tokensPerRank: stats.map(\.receivedTokens),
            dispatchRDMABytesPerSecond: multiNode ? rate(pairs * dispatchRow, dispatch) : nil,
            dispatchNVLBytesPerSecond: rate(received * dispatchRow, dispatch),
            combineRDMABytesPerSecond: multiNode ? rate(pairs * combineRow, combine) : nil,
            combineNVLBytesPerSecond: rate(received * combineRow, combine), maxError: nil, stats: stats)
        report.waveCount = try layer.wavePlan(tokensPerRank: Double(request.tokensPerRank)).waveCount
        report.balanceRatio = balanceRule.flopsPerByte / balanceRule.thresholdFlopsPerByte
        let finished = backward.compactMap { $0 }
        if request.backward, finished.count == backward.count {
            report.backwardTime = (ends.max() ?? .start) - (finished.map(\.start).min() ?? .start)
        }
        if request.real {
            report.maxError = try maxError(
                outputs: outputs.compactMap { $0 }, backward: request.backward ? finished : nil, weights: weights)
        }
        return report
    }

    /// V4's balance rule for the run's layer on its GPUs (NVLink inside a node, IB across nodes).
    public var balanceRule: EPBalanceRule {
        EPBalanceRule(
            gpu: layer.communicator.cluster.spec.gpu, precision: layer.options.expertPrecision,
            expertWidth: layer.expertWidth, internode: layer.placement.nodeCount > 1)
    }

    /// Every rank's forward output (nil for a rank that has not finished).
    public func outputs() -> [Tensor?] {
        layer.communicator.cluster.simulation.inspect(log) { $0.outputs }
    }

    /// Every rank's input gradient and parameter gradients (empty before backward finished).
    public func gradients() -> (inputs: [Tensor], weights: [[(String, Tensor)]]) {
        let (backward, weights) = layer.communicator.cluster.simulation.inspect(log) {
            ($0.backward, $0.weightGradients)
        }
        return (backward.compactMap { $0?.input.inputGradient }, weights)
    }

    /// Whether every rank's `weightFLOPs` equals the FLOPs of its W tasks (real runs with backward).
    public func weightFLOPsMatchTasks() throws -> Bool {
        let simulation = layer.communicator.cluster.simulation
        let results = simulation.inspect(log) { $0.backward }.compactMap { $0 }
        guard results.count == layer.placement.rankCount else { return false }
        return results.allSatisfy { $0.weightFLOPs == $0.input.weightTasks.reduce(0) { $0 + $1.flops } }
    }

    /// The largest relative difference (max |a − b| / max |b|) of the output, the input gradient and every
    /// parameter gradient against the single-device layer on the same tokens.
    private func maxError(
        outputs: [Tensor], backward: [ExpertParallelLayer.BackwardResult]?, weights: [[(String, Tensor)]]
    ) throws -> Double {
        let reference = layer.layer
        let (expected, cache) = try reference.forward(input, parameters: parameters)
        var worst = try Self.relativeDifference(Tensor.concatenatingRows(outputs), expected)
        guard let backward else { return worst }
        let pass = try reference.backwardInput(outputGradient, cache: cache, parameters: parameters)
        let gradients = backward.map(\.input.inputGradient)
        worst = max(worst, try Self.relativeDifference(Tensor.concatenatingRows(gradients), pass.inputGradient))
        var expectedGradients = try parameters.zeros()
        try pass.weightTasks.accumulate(into: &expectedGradients)
        var actual = try parameters.zeros()
        for rank in weights { for (name, gradient) in rank { try actual.accumulate(name, gradient) } }
        for (mine, theirs) in zip(actual.entries, expectedGradients.entries) {
            worst = max(worst, try Self.relativeDifference(mine.tensor, theirs.tensor))
        }
        return worst
    }

    /// max |a − b| / max |b| (0 when both are all zero).
    public static func relativeDifference(_ actual: Tensor, _ expected: Tensor) throws -> Double {
        let a = try actual.scalars()
        let b = try expected.scalars()
        guard a.count == b.count else { return .infinity }
        let scale = b.reduce(Float(0)) { max($0, abs($1)) }
        let difference = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        if difference == 0 { return 0 }
        return Double(difference / max(scale, .leastNormalMagnitude))
    }
}
