import Hardware
import MoEModel
import SimCore

extension ExpertParallelLayer {
    /// The trace lane of the layer's phases on the rank's GPU: actor `gpuN`, lane `moe`.
    func traceTrack(rank: Int) throws -> TraceTrackID {
        try traceNames.track(rank: rank) {
            communicator.cluster.simulation.trace.track(actor: try communicator.gpu(rank: rank).name, lane: "moe")
        }
    }

    /// Records one rank's forward phases as spans named by the span-naming convention: `gate`, `dispatch`
    /// (the counts exchange, then the payload, with its bytes), `experts` (MLP) and `combine` (with its bytes).
    func recordForward(rank: Int, _ stats: EPRankStats) throws {
        let track = try traceTrack(rank: rank)
        func span(_ phase: EPTraceNames.Phase, _ start: SimInstant, _ end: SimInstant, bytes: Int = 0) {
            guard end > start else { return }
            traceNames.span(
                phase, on: track, startNs: start.nanosecondsSinceStart, endNs: end.nanosecondsSinceStart,
                bytes: bytes)
        }
        span(.gate, stats.start, stats.gateEnd)
        span(.dispatchCounts, stats.gateEnd, stats.dispatchStart)
        span(.dispatch, stats.dispatchStart, stats.dispatchEnd, bytes: stats.dispatchTraffic.bytes)
        span(.experts, stats.dispatchEnd, stats.combineStart)
        span(.combine, stats.combineStart, stats.combineEnd, bytes: stats.combineTraffic.bytes)
    }

    /// The layer's parameter prefix (`moe`), which follows each span's phase word.
    static func tracePrefix(of layer: MoELayer) -> String {
        let weight = layer.router.weightName
        return weight.hasSuffix(".router") ? String(weight.dropLast(".router".count)) : weight
    }

    /// Records one rank's backward (`.backward`, B) or weight-gradient (`.weights`, W) pass of the layer as one
    /// span.
    func recordBackward(rank: Int, _ phase: EPTraceNames.Phase, from start: SimInstant, bytes: Int) throws {
        let simulation = communicator.cluster.simulation
        guard simulation.now > start else { return }
        traceNames.span(
            phase, on: try traceTrack(rank: rank), startNs: start.nanosecondsSinceStart,
            endNs: simulation.executor.nowNs, bytes: bytes)
    }
}

extension EPTraffic {
    /// Bytes on both kinds of wire.
    var bytes: Int { ibBytes + nvlinkBytes }
}
