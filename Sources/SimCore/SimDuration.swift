import Foundation

/// A span of virtual time, in whole nanoseconds.
public struct SimDuration: Hashable, Comparable, Sendable, DurationProtocol, CustomStringConvertible {
    /// The length in nanoseconds.
    public var nanoseconds: Int64

    /// A duration of `nanoseconds` ns.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimDuration(nanoseconds: 0)

    /// A duration of `value` ns.
    public static func nanoseconds(_ value: Int64) -> SimDuration { SimDuration(nanoseconds: value) }
    /// A duration of `value` µs.
    public static func microseconds(_ value: Int64) -> SimDuration { SimDuration(nanoseconds: value * 1_000) }
    /// A duration of `value` ms.
    public static func milliseconds(_ value: Int64) -> SimDuration { SimDuration(nanoseconds: value * 1_000_000) }
    /// A duration of `value` s.
    public static func seconds(_ value: Int64) -> SimDuration { SimDuration(nanoseconds: value * 1_000_000_000) }

    /// The duration closest to `seconds` (rounded to the nearest ns, saturating at the Int64 range).
    public static func rounded(seconds: Double) -> SimDuration {
        let ns = (seconds * 1e9).rounded()
        if ns >= Double(Int64.max) { return SimDuration(nanoseconds: .max) }
        if ns <= Double(Int64.min) { return SimDuration(nanoseconds: .min) }
        return SimDuration(nanoseconds: Int64(ns))
    }

    /// The length in seconds, for reporting only.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
    /// The length in microseconds, for reporting only.
    public var microseconds: Double { Double(nanoseconds) / 1e3 }

    public static func + (lhs: SimDuration, rhs: SimDuration) -> SimDuration {
        SimDuration(nanoseconds: lhs.nanoseconds + rhs.nanoseconds)
    }
    public static func - (lhs: SimDuration, rhs: SimDuration) -> SimDuration {
        SimDuration(nanoseconds: lhs.nanoseconds - rhs.nanoseconds)
    }
    public static func * (lhs: SimDuration, rhs: Int) -> SimDuration {
        SimDuration(nanoseconds: lhs.nanoseconds * Int64(rhs))
    }
    public static func / (lhs: SimDuration, rhs: Int) -> SimDuration {
        SimDuration(nanoseconds: lhs.nanoseconds / Int64(rhs))
    }
    public static func / (lhs: SimDuration, rhs: SimDuration) -> Double {
        Double(lhs.nanoseconds) / Double(rhs.nanoseconds)
    }
    public static func < (lhs: SimDuration, rhs: SimDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// A human-readable form with a unit: `250ns`, `3.5µs`, `1.25ms`, `2s`.
    public var description: String { SimDuration.format(nanoseconds: nanoseconds) }

    /// Formats a nanosecond count with the largest unit that keeps it at least 1.
    public static func format(nanoseconds ns: Int64) -> String {
        let magnitude = ns.magnitude
        let (divisor, unit): (Double, String) =
            magnitude >= 1_000_000_000
            ? (1e9, "s")
            : magnitude >= 1_000_000
                ? (1e6, "ms")
                : magnitude >= 1_000 ? (1e3, "µs") : (1, "ns")
        let value = Double(ns) / divisor
        return "\(trimmedDecimal(value))\(unit)"
    }
}

/// `value` with at most three decimals and no trailing zeros.
func trimmedDecimal(_ value: Double) -> String {
    var text = String(Int64((value * 1000).rounded()))
    let negative = text.hasPrefix("-")
    if negative { text.removeFirst() }
    while text.count < 4 { text = "0" + text }
    let split = text.index(text.endIndex, offsetBy: -3)
    var fraction = String(text[split...])
    while fraction.hasSuffix("0") { fraction.removeLast() }
    let whole = String(text[..<split])
    return (negative ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
}
