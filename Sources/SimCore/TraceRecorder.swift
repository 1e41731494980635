/// Records the spans and instants of every simulated actor, keeps a stable 64-bit hash of all of them in
/// recording order, and exports Chrome trace event JSON.
///
/// Confined to the simulation's executor like every simulated actor (it is called from their methods).
/// With `storesEvents` off it only hashes, for runs too large to keep.
public final class TraceRecorder: @unchecked Sendable {
    struct StoredArg {
        var key: Int32
        var value: StoredValue
    }

    enum StoredValue {
        case int(Int64)
        case double(Double)
        case string(Int32)
    }

    struct Record {
        var isSpan: Bool
        var track: Int32
        var name: Int32
        var startNs: Int64
        var endNs: Int64
        var argsStart: Int32
        var argsCount: Int32
    }

    struct Track {
        var actor: Int32
        var lane: Int32
    }

    /// Whether events are kept for reading back and export (the hash is kept either way).
    public let storesEvents: Bool
    private(set) var strings: [String] = []
    private var stringIndex: [String: Int32] = [:]  // lookup only, never iterated
    private(set) var tracks: [Track] = []
    private var trackIndex: [Int64: Int32] = [:]  // lookup only, never iterated
    var records: [Record] = []
    var storedArgs: [StoredArg] = []
    var hasher = StableHasher()
    /// Per `TraceName` slot: its string index in this recorder, -1 until first used.
    var nameSlots: [Int32] = []
    /// The record `beginSpan`/`beginInstant` started (see `TraceRecorder+Fast.swift`).
    var pending = Record(isSpan: false, track: 0, name: 0, startNs: 0, endNs: 0, argsStart: 0, argsCount: 0)
    /// Unhashed annotations (message flows, counter samples): see `TraceRecorder+Annotations.swift`.
    var annotations = Annotations()
    /// Events recorded so far (stored or not).
    public private(set) var eventCount = 0

    public init(storesEvents: Bool = true) { self.storesEvents = storesEvents }

    /// The stable hash of everything recorded so far, in order.
    public var hash: UInt64 { hasher.finalize() }

    /// The track for `lane` of `actor`, created on first use.
    public func track(actor: String, lane: String) -> TraceTrackID {
        let key = Int64(intern(actor)) << 32 | Int64(intern(lane))
        if let existing = trackIndex[key] { return TraceTrackID(rawValue: existing) }
        let id = Int32(tracks.count)
        tracks.append(Track(actor: intern(actor), lane: intern(lane)))
        trackIndex[key] = id
        hasher.combine(UInt64(key))
        return TraceTrackID(rawValue: id)
    }

    /// Records a span of `name` on `track` from `start` to `end`.
    public func span(
        _ track: TraceTrackID, _ name: String, start: SimInstant, end: SimInstant,
        args: KeyValuePairs<String, TraceValue> = [:]
    ) {
        record(isSpan: true, track, name, startNs: start.nanosecondsSinceStart, endNs: end.nanosecondsSinceStart, args)
    }

    /// Records an instant event of `name` on `track` at `time`.
    public func instant(
        _ track: TraceTrackID, _ name: String, at time: SimInstant, args: KeyValuePairs<String, TraceValue> = [:]
    ) {
        let ns = time.nanosecondsSinceStart
        record(isSpan: false, track, name, startNs: ns, endNs: ns, args)
    }

    /// Every stored event in recording order (empty when `storesEvents` is off).
    public var events: [TraceEvent] { records.indices.map(event(at:)) }

    /// The stored event at `index`.
    public func event(at index: Int) -> TraceEvent {
        let record = records[index]
        let track = tracks[Int(record.track)]
        let args = (0..<Int(record.argsCount)).map { offset in
            let arg = storedArgs[Int(record.argsStart) + offset]
            return (strings[Int(arg.key)], value(of: arg.value))
        }
        return TraceEvent(
            kind: record.isSpan ? .span : .instant, actor: strings[Int(track.actor)], lane: strings[Int(track.lane)],
            name: strings[Int(record.name)], start: SimInstant(nanosecondsSinceStart: record.startNs),
            end: SimInstant(nanosecondsSinceStart: record.endNs), args: args)
    }

    func value(of stored: StoredValue) -> TraceValue {
        switch stored {
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .string(let index): .string(strings[Int(index)])
        }
    }

    private func record(
        isSpan: Bool, _ track: TraceTrackID, _ name: String, startNs: Int64, endNs: Int64,
        _ args: KeyValuePairs<String, TraceValue>
    ) {
        let nameIndex = intern(name)
        hashHeader(isSpan: isSpan, track, nameIndex, startNs: startNs, endNs: endNs)
        let argsStart = Int32(storedArgs.count)
        for (key, value) in args {
            let stored = store(value)
            hasher.combine(UInt64(intern(key)))
            hashValue(stored)
            if storesEvents { storedArgs.append(StoredArg(key: intern(key), value: stored)) }
        }
        guard storesEvents else { return }
        records.append(
            Record(
                isSpan: isSpan, track: track.rawValue, name: nameIndex, startNs: startNs, endNs: endNs,
                argsStart: argsStart, argsCount: Int32(args.count)))
    }

    /// Counts one event and hashes its kind, track, name and times.
    @inline(__always)
    func hashHeader(isSpan: Bool, _ track: TraceTrackID, _ nameIndex: Int32, startNs: Int64, endNs: Int64) {
        eventCount += 1
        hasher.combine(UInt64(isSpan ? 1 : 2) << 32 | UInt64(UInt32(track.rawValue)))
        hasher.combine(UInt64(nameIndex))
        hasher.combine(startNs)
        hasher.combine(endNs)
    }

    private func store(_ value: TraceValue) -> StoredValue {
        switch value {
        case .int(let int): .int(int)
        case .double(let double): .double(double)
        case .string(let text): .string(intern(text))
        }
    }

    func hashValue(_ stored: StoredValue) {
        switch stored {
        case .int(let int): hasher.combine(int)
        case .double(let double): hasher.combine(double.bitPattern)
        case .string(let index): hasher.combine(UInt64(index) | 1 << 40)
        }
    }

    /// The index of `text` in the string table; a new string is hashed in when first seen.
    func intern(_ text: String) -> Int32 {
        let next = Int32(strings.count)
        // One hash-table probe: the slot is claimed for `next` when the text is new.
        let index = Self.claim(&stringIndex[text, default: -1], next)
        guard index == next else { return index }
        strings.append(text)
        hasher.combine(text)
        return index
    }

    /// The index in `slot`, or `next` written there when the slot is new (-1).
    private static func claim(_ slot: inout Int32, _ next: Int32) -> Int32 {
        if slot < 0 { slot = next }
        return slot
    }
}
