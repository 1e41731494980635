import Hardware
import SimCore

extension ExpertParallelLayer {
    /// The trace lane of the layer's phases on the rank's GPU: actor `gpuN`, lane `moe`.
    func traceTrack(rank: Int) throws -> TraceTrackID {
        communicator.cluster.simulation.trace.track(actor: try communicator.gpu(rank: rank).name, lane: "moe")
    }

    /// Records one rank's forward phases as spans named by the span-naming convention: `gate`, `dispatch`
    /// (the counts exchange, then the payload, with its bytes), `experts` (MLP) and `combine` (with its bytes).
    func recordForward(rank: Int, _ stats: EPRankStats) throws {
        let track = try traceTrack(rank: rank)
        let trace = communicator.cluster.simulation.trace
        let prefix = tracePrefix
        func span(_ name: String, _ start: SimInstant, _ end: SimInstant, bytes: Int = 0, _ category: String) {
            guard end > start else { return }
            trace.span(
                track, name + " " + prefix, start: start, end: end,
                args: ["bytes": .int(Int64(bytes)), "category": .string(category)])
        }
        span("gate", stats.start, stats.gateEnd, "kernel")
        span("dispatch counts", stats.gateEnd, stats.dispatchStart, "dispatch")
        span("dispatch", stats.dispatchStart, stats.dispatchEnd, bytes: stats.dispatchTraffic.bytes, "dispatch")
        span("experts", stats.dispatchEnd, stats.combineStart, "MLP")
        span("combine", stats.combineStart, stats.combineEnd, bytes: stats.combineTraffic.bytes, "combine")
    }

    /// The layer's parameter prefix (`moe`), which follows each span's phase word.
    var tracePrefix: String {
        let weight = layer.router.weightName
        return weight.hasSuffix(".router") ? String(weight.dropLast(".router".count)) : weight
    }

    /// Records one rank's backward (`B`) or weight-gradient (`W`) pass of the layer as one span.
    func recordBackward(rank: Int, _ letter: String, from start: SimInstant, bytes: Int) throws {
        let simulation = communicator.cluster.simulation
        guard simulation.now > start else { return }
        simulation.trace.span(
            try traceTrack(rank: rank), letter + " " + tracePrefix, start: start, end: simulation.now,
            args: ["bytes": .int(Int64(bytes)), "category": .string(letter)])
    }
}

extension EPTraffic {
    /// Bytes on both kinds of wire.
    var bytes: Int { ibBytes + nvlinkBytes }
}
