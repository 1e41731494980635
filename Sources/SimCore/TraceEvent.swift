/// Identifies one timeline row: an actor (Chrome trace "process") and one of its lanes ("thread").
public struct TraceTrackID: Hashable, Sendable {
    public let rawValue: Int32
}

/// A value attached to a trace event (bytes, FLOPs, a peer's name, …).
public enum TraceValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case string(String)

    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): value
        }
    }
}

/// One recorded event as read back from the recorder: a span (`end > start` or equal) or an instant.
public struct TraceEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case span
        case instant
    }

    public var kind: Kind
    public var actor: String
    public var lane: String
    public var name: String
    public var start: SimInstant
    public var end: SimInstant
    public var args: [(String, TraceValue)]

    public var duration: SimDuration { end - start }

    public static func == (lhs: TraceEvent, rhs: TraceEvent) -> Bool {
        lhs.kind == rhs.kind && lhs.actor == rhs.actor && lhs.lane == rhs.lane && lhs.name == rhs.name
            && lhs.start == rhs.start && lhs.end == rhs.end && lhs.args.map(\.0) == rhs.args.map(\.0)
            && lhs.args.map(\.1) == rhs.args.map(\.1)
    }
}
