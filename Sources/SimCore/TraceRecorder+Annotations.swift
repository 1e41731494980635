/// A message's trip from its send to its delivery, recorded for flow arrows.
public struct TraceFlow: Equatable, Sendable {
    /// The sender's track (its `sends` lane): the flow starts on the send instant there.
    public var sourceTrack: TraceTrackID
    public var sentNs: Int64
    /// A track of the receiving actor: the flow ends on that actor's synthetic `deliveries` lane.
    public var destinationTrack: TraceTrackID
    public var deliveredNs: Int64
    public var bytes: Int64
    public var tag: Int64
    /// The stored index of the send instant the flow starts on (-1: none).
    public var sendRecord: Int
}

/// One sample of a counter (an HBM kind's bytes, …) on an actor: the value holds from `atNs` until the next.
public struct TraceCounterSample: Equatable, Sendable {
    /// A track of the actor the counter belongs to (its Chrome "process").
    public var track: TraceTrackID
    /// The counter's name (`hbm`) and series (`activations`).
    public var counter: String
    public var series: String
    public var atNs: Int64
    public var value: Double
}

/// A stored span or instant as read back without copying its arguments (see `arguments(ofRecord:)`).
public struct TraceRecordView: Sendable {
    public var index: Int
    public var isSpan: Bool
    public var track: TraceTrackID
    public var name: String
    public var startNs: Int64
    public var endNs: Int64
}

extension TraceRecorder {
    /// Flows and counter samples: kept beside the events but outside the stable hash, so adding them never
    /// changes a run's trace hash; they are derived from the same deterministic run.
    struct Annotations {
        var flows: [TraceFlow] = []
        var counters: [TraceCounterSample] = []
    }

    /// The index the next stored event will get (pass it as a flow's `sendRecord`).
    public var nextRecordIndex: Int { records.count }

    /// Records that a message sent on `sourceTrack` at `sent` was delivered at `delivered` (unhashed).
    public func flow(
        from sourceTrack: TraceTrackID, sent: SimInstant, to destinationTrack: TraceTrackID, delivered: SimInstant,
        bytes: Int, tag: Int, sendRecord: Int = -1
    ) {
        guard storesEvents else { return }
        annotations.flows.append(
            TraceFlow(
                sourceTrack: sourceTrack, sentNs: sent.nanosecondsSinceStart, destinationTrack: destinationTrack,
                deliveredNs: delivered.nanosecondsSinceStart, bytes: Int64(bytes), tag: Int64(tag),
                sendRecord: sendRecord))
    }

    /// Records that `series` of `counter` on `track`'s actor is `value` from `time` on (unhashed).
    public func counter(_ track: TraceTrackID, _ counter: String, series: String, at time: SimInstant, value: Double) {
        guard storesEvents else { return }
        annotations.counters.append(
            TraceCounterSample(
                track: track, counter: counter, series: series, atNs: time.nanosecondsSinceStart, value: value))
    }

    /// Every recorded flow, in delivery order.
    public var flows: [TraceFlow] { annotations.flows }

    /// Every counter sample, in recording (time) order.
    public var counterSamples: [TraceCounterSample] { annotations.counters }

    /// Tracks in creation order: the actor and lane of each `TraceTrackID`'s raw value.
    public var trackNames: [(actor: String, lane: String)] {
        tracks.map { (strings[Int($0.actor)], strings[Int($0.lane)]) }
    }

    /// The actor and lane of `track`.
    public func names(of track: TraceTrackID) -> (actor: String, lane: String) {
        let stored = tracks[Int(track.rawValue)]
        return (strings[Int(stored.actor)], strings[Int(stored.lane)])
    }

    /// Stored events (spans and instants) in recording order.
    public var storedRecordCount: Int { records.count }

    /// Calls `body` with every stored event in recording order, without building argument arrays.
    public func forEachRecord(_ body: (TraceRecordView) throws -> Void) rethrows {
        for (index, record) in records.enumerated() {
            try body(
                TraceRecordView(
                    index: index, isSpan: record.isSpan, track: TraceTrackID(rawValue: record.track),
                    name: strings[Int(record.name)], startNs: record.startNs, endNs: record.endNs))
        }
    }

    /// The arguments of the stored event at `index`.
    public func arguments(ofRecord index: Int) -> [(String, TraceValue)] {
        let record = records[index]
        return (0..<Int(record.argsCount)).map { offset in
            let arg = storedArgs[Int(record.argsStart) + offset]
            return (strings[Int(arg.key)], value(of: arg.value))
        }
    }

    /// The latest end of any stored event (zero when none).
    public var lastEventEndNs: Int64 { records.reduce(0) { max($0, $1.endNs) } }
}

extension TraceRecorder {
    /// Calls `body` with each argument of the stored event at `index`, without building an array.
    public func forEachArgument(ofRecord index: Int, _ body: (String, TraceValue) -> Void) {
        let record = records[index]
        for offset in 0..<Int(record.argsCount) {
            let arg = storedArgs[Int(record.argsStart) + offset]
            body(strings[Int(arg.key)], value(of: arg.value))
        }
    }
}
