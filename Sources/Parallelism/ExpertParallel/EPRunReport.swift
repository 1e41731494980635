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
    /// Forward after routing: the first gate end to the last end (counts exchange, dispatch, experts, combine;
    /// what DeepGEMM PR #316 times, given the top-k).
    public var timeAfterGate: SimDuration
    public var dispatchTime: SimDuration
    public var combineTime: SimDuration
    /// B plus the W tasks, first start to last end (nil without backward).
    public var backwardTime: SimDuration?
    /// B alone (dispatch of the output gradients, the experts' B, combine of the input gradients), first start
    /// to last end (nil without backward).
    public var backwardInputTime: SimDuration?
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

    /// The forward summary of every rank's `stats` (no backward time, no error): phase spans from the first
    /// start to the last end, bytes summed, DeepEP bandwidths (mean bytes per rank over the span; RDMA ones only
    /// when `multiNode`).
    public init(stats: [EPRankStats], wire: EPWireFormat, multiNode: Bool) {
        func span(_ start: (EPRankStats) -> SimInstant, _ end: (EPRankStats) -> SimInstant) -> SimDuration {
            let first = stats.map(start).min() ?? .start
            let last = stats.map(end).max() ?? .start
            return last - first
        }
        func rate(_ bytes: Double, _ time: SimDuration) -> Double {
            time.nanoseconds > 0 ? bytes / (Double(time.nanoseconds) * 1e-9) : 0
        }
        let ranks = Double(max(1, stats.count))
        let pairs = Double(stats.reduce(0) { $0 + $1.tokenNodePairs }) / ranks
        let received = Double(stats.reduce(0) { $0 + $1.receivedTokens }) / ranks
        let (dispatchRow, combineRow) = (wire.deepEPDispatchBytesPerToken, Double(wire.bf16BytesPerToken))
        time = span(\.start, \.end)
        timeAfterGate = span(\.gateEnd, \.end)
        dispatchTime = span(\.dispatchStart, \.dispatchEnd)
        combineTime = span(\.combineStart, \.combineEnd)
        ibBytes = stats.reduce(0) { $0 + $1.dispatchTraffic.ibBytes + $1.combineTraffic.ibBytes }
        nvlinkBytes = stats.reduce(0) { $0 + $1.dispatchTraffic.nvlinkBytes + $1.combineTraffic.nvlinkBytes }
        tokensPerRank = stats.map(\.receivedTokens)
        dispatchRDMABytesPerSecond = multiNode ? rate(pairs * dispatchRow, dispatchTime) : nil
        dispatchNVLBytesPerSecond = rate(received * dispatchRow, dispatchTime)
        combineRDMABytesPerSecond = multiNode ? rate(pairs * combineRow, combineTime) : nil
        combineNVLBytesPerSecond = rate(received * combineRow, combineTime)
        self.stats = stats
    }
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
        var report = EPRunReport(stats: stats, wire: layer.wire, multiNode: layer.placement.nodeCount > 1)
        report.waveCount = try layer.wavePlan(tokensPerRank: Double(request.tokensPerRank)).waveCount
        report.balanceRatio = balanceRule.flopsPerByte / balanceRule.thresholdFlopsPerByte
        let finished = backward.compactMap { $0 }
        if request.backward, finished.count == backward.count {
            report.backwardTime = (ends.max() ?? .start) - (finished.map(\.start).min() ?? .start)
            report.backwardInputTime =
                (finished.map(\.end).max() ?? .start) - (finished.map(\.start).min() ?? .start)
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

    /// Every rank's input gradient (nil before its backward finished) and the weight gradients its W tasks
    /// returned, in task order.
    public func gradients() -> (input: [Tensor?], weights: [[(String, Tensor)]]) {
        layer.communicator.cluster.simulation.inspect(log) {
            ($0.backward.map { $0?.input.inputGradient }, $0.weightGradients)
        }
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
        return max(worst, try actual.maxRelativeDifference(to: expectedGradients))
    }

    /// max |a − b| / max |b| over the values (`ParameterSet.relativeDifference`, the `train.max_param_diff`
    /// definition for one tensor).
    public static func relativeDifference(_ actual: Tensor, _ expected: Tensor) throws -> Double {
        try ParameterSet.relativeDifference(actual.scalars(), expected.scalars())
    }
}
