/// A point in virtual time: nanoseconds since the simulation started.
public struct SimInstant: Hashable, Comparable, Sendable, InstantProtocol, CustomStringConvertible {
    /// Nanoseconds since the start of the simulation.
    public var nanosecondsSinceStart: Int64

    /// The instant `nanosecondsSinceStart` ns after the start.
    public init(nanosecondsSinceStart: Int64) { self.nanosecondsSinceStart = nanosecondsSinceStart }

    /// The start of every simulation.
    public static let start = SimInstant(nanosecondsSinceStart: 0)

    public func advanced(by duration: SimDuration) -> SimInstant {
        SimInstant(nanosecondsSinceStart: nanosecondsSinceStart + duration.nanoseconds)
    }
    public func duration(to other: SimInstant) -> SimDuration {
        SimDuration(nanoseconds: other.nanosecondsSinceStart - nanosecondsSinceStart)
    }
    public static func < (lhs: SimInstant, rhs: SimInstant) -> Bool {
        lhs.nanosecondsSinceStart < rhs.nanosecondsSinceStart
    }
    public static func + (lhs: SimInstant, rhs: SimDuration) -> SimInstant { lhs.advanced(by: rhs) }
    public static func - (lhs: SimInstant, rhs: SimInstant) -> SimDuration { rhs.duration(to: lhs) }

    /// `t=` followed by the time since start with a unit.
    public var description: String { "t=" + SimDuration.format(nanoseconds: nanosecondsSinceStart) }
}
