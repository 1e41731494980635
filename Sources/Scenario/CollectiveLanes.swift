import SimCore

/// The trace lanes of unnamed collectives on actor `collectives`: a collective takes the first lane of its kind
/// whose last span has ended (`all-reduce #1`, `all-reduce #2`, …), so a sweep of N collectives run one after
/// another draws one lane, and only concurrent ones sit side by side.
///
/// Confined to the simulation's executor, like `TraceRecorder` (only the collectives' processes call it).
final class CollectiveLanes: @unchecked Sendable {
    private struct Lane {
        var kind: String
        var track: TraceTrackID
        var busy: Bool
    }

    private var lanes: [Lane] = []

    /// Takes the first idle lane of `kind`, creating `kind #n` when all are busy; give it back with `release`.
    func acquire(kind: String, in trace: TraceRecorder) -> TraceTrackID {
        if let index = lanes.firstIndex(where: { $0.kind == kind && !$0.busy }) {
            lanes[index].busy = true
            return lanes[index].track
        }
        let number = lanes.count { $0.kind == kind } + 1
        let track = trace.track(actor: "collectives", lane: "\(kind) #\(number)")
        lanes.append(Lane(kind: kind, track: track, busy: true))
        return track
    }

    /// Marks `track` idle: its collective's span has been recorded.
    func release(_ track: TraceTrackID) {
        if let index = lanes.firstIndex(where: { $0.track == track }) { lanes[index].busy = false }
    }
}
