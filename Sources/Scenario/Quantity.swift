import Foundation

/// A number with its dimension, held in the dimension's base unit (ns, B, B/s or plain).
public struct Quantity: Equatable, Sendable, CustomStringConvertible {
    public var value: Double
    public var dimension: Dimension

    public init(_ value: Double, _ dimension: Dimension) {
        self.value = value
        self.dimension = dimension
    }

    /// Parses `text` such as `64MiB`, `2.5ms`, `160GB/s`, `1e3` as a quantity of `dimension`.
    /// A bare number is accepted for plain numbers and for zero; other dimensions need a unit.
    public static func parse(_ text: String, as dimension: Dimension) throws(QuantityError) -> Quantity {
        let (number, suffix) = splitNumber(text)
        guard !number.isEmpty else { throw .notANumber(text, expected: dimension) }
        guard let magnitude = Double(number) else { throw .notANumber(text, expected: dimension) }
        guard magnitude.isFinite, abs(magnitude) <= 1e30 else { throw .outOfRange(text) }
        if suffix.isEmpty {
            guard dimension == .number || magnitude == 0 else { throw .missingUnit(text, expected: dimension) }
            return Quantity(magnitude, dimension)
        }
        guard let unit = dimension.units.first(where: { $0.suffix == suffix }) else {
            throw .unknownUnit(suffix, in: text, expected: dimension)
        }
        return Quantity(magnitude * unit.scale, dimension)
    }

    /// Splits a leading decimal number (sign, digits, point, exponent) from its unit suffix.
    static func splitNumber(_ text: String) -> (number: String, suffix: String) {
        let scalars = Array(text.unicodeScalars)
        var end = 0
        func isDigit(_ index: Int) -> Bool { index < scalars.count && ("0"..."9").contains(scalars[index]) }
        if end < scalars.count && (scalars[end] == "-" || scalars[end] == "+") { end += 1 }
        while isDigit(end) || (end < scalars.count && scalars[end] == ".") { end += 1 }
        if end < scalars.count && (scalars[end] == "e" || scalars[end] == "E") {
            var exponentEnd = end + 1
            if exponentEnd < scalars.count && (scalars[exponentEnd] == "-" || scalars[exponentEnd] == "+") {
                exponentEnd += 1
            }
            if isDigit(exponentEnd) {
                while isDigit(exponentEnd) { exponentEnd += 1 }
                end = exponentEnd
            }
        }
        var number = String.UnicodeScalarView()
        number.append(contentsOf: scalars[..<end])
        var suffix = String.UnicodeScalarView()
        suffix.append(contentsOf: scalars[end...])
        return (String(number), String(suffix))
    }

    /// The value with the unit that reads best: `3.5µs`, `64 MiB`, `160 GB/s`, `0.25`.
    public var description: String { Quantity.format(value, dimension) }

    /// Formats `value` (in the base unit of `dimension`) for people.
    public static func format(_ value: Double, _ dimension: Dimension) -> String {
        switch dimension {
        case .time: return scaled(value, [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1, "ns")], separator: "")
        case .bytes:
            return scaled(
                value,
                [(1_099_511_627_776, "TiB"), (1_073_741_824, "GiB"), (1_048_576, "MiB"), (1024, "KiB"), (1, "B")],
                separator: " ")
        case .bandwidth:
            return scaled(
                value, [(1e12, "TB/s"), (1e9, "GB/s"), (1e6, "MB/s"), (1e3, "KB/s"), (1, "B/s")], separator: " ")
        case .number: return compactNumber(value)
        }
    }

    private static func scaled(_ value: Double, _ units: [(Double, String)], separator: String) -> String {
        let unit = units.first { abs(value) >= $0.0 } ?? units[units.count - 1]
        return compactNumber(value / unit.0) + separator + unit.1
    }

    /// Up to four significant decimals, no trailing zeros, no exponent for everyday magnitudes.
    static func compactNumber(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.4f", value)
        if abs(value) >= 1e15 || (abs(value) < 1e-4 && value != 0) { text = String(format: "%.4g", value) }
        guard text.contains("."), !text.contains("e") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

/// Why a quantity did not parse.
public enum QuantityError: Error, Equatable, CustomStringConvertible {
    case notANumber(String, expected: Dimension)
    case missingUnit(String, expected: Dimension)
    case unknownUnit(String, in: String, expected: Dimension)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .notANumber(let text, let dimension):
            "'\(text)' is not a number (expected a \(dimension.rawValue) like \(dimension.example))"
        case .missingUnit(let text, let dimension):
            "'\(text)' needs a unit (expected a \(dimension.rawValue) like \(dimension.example))"
        case .unknownUnit(let unit, let text, let dimension):
            "unknown unit '\(unit)' in '\(text)' (\(dimension.rawValue) units: "
                + dimension.units.map(\.suffix).joined(separator: ", ") + ")"
        case .outOfRange(let text): "'\(text)' is out of range"
        }
    }
}
