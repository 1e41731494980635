import SimCore

/// What the ranks of one expert-parallel layer share in the simulation: each call's source layouts (read only
/// after the owner's counts message has arrived, so no rank learns a routing before the wire says it could)
/// and the phase barriers of synchronised runs.
actor EPExchange: SimulatedActor {
    nonisolated let simulation: Simulation
    private let rankCount: Int
    private var calls: [Int: Call] = [:]  // lookup only, never iterated

    private struct Call {
        var layouts: [SourceLayout?]
        /// Every rank's layout once all have published (built once, read by every rank).
        var complete: [SourceLayout]?
        var finished = 0
        var barriers: [(arrived: Int, latch: Latch)] = []
    }

    init(rankCount: Int, in simulation: Simulation) {
        self.simulation = simulation
        self.rankCount = rankCount
    }

    /// Records `layout` for the call `tagBase`.
    func publish(_ layout: SourceLayout, tagBase: Int) {
        calls[tagBase, default: Call(layouts: Array(repeating: nil, count: rankCount))].layouts[layout.rank] = layout
    }

    /// Every rank's layout of the call.
    func layouts(tagBase: Int) throws -> [SourceLayout] {
        guard var call = calls[tagBase] else {
            throw ExpertParallelError.invalid("tag base", "\(tagBase)", "no layer call with this tag base is running")
        }
        if let complete = call.complete { return complete }
        let layouts = call.layouts.compactMap { $0 }
        guard layouts.count == rankCount else {
            throw ExpertParallelError.invalid(
                "tag base", "\(tagBase)",
                "\(layouts.count) of \(rankCount) ranks have routed: a counts message is missing")
        }
        call.complete = layouts
        calls[tagBase] = call
        return layouts
    }

    /// Returns once every rank has arrived at barrier `phase` of the call `tagBase`.
    func barrier(tagBase: Int, phase: Int) async {
        var call = calls[tagBase] ?? Call(layouts: Array(repeating: nil, count: rankCount))
        while call.barriers.count <= phase {
            call.barriers.append((0, Latch("EP barrier \(tagBase)/\(call.barriers.count)", in: simulation)))
        }
        call.barriers[phase].arrived += 1
        let latch = call.barriers[phase].latch
        let done = call.barriers[phase].arrived == rankCount
        calls[tagBase] = call
        if done { await latch.open() } else { await latch.wait() }
    }

    /// Notes that one rank finished the call `tagBase`; the last one drops its state.
    func finish(tagBase: Int) {
        guard var call = calls[tagBase] else { return }
        call.finished += 1
        calls[tagBase] = call.finished == rankCount ? nil : call
    }
}
