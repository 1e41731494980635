/// A family of metrics named by a dotted path with optional `[…]` selectors, e.g. `gpu[N].hbm.peak`.
public struct Metric {
    /// The path with `[]` where a selector goes, e.g. `gpu[].hbm.peak`.
    public var pattern: String
    /// What the selectors are, for help (e.g. `gpu[N]`), in pattern order.
    public var display: String
    public var dimension: Dimension
    public var summary: String
    /// The value for the given selectors, or nil when they name nothing that exists.
    public var value: ([String]) -> Double?
    /// Selector tuples that exist now (empty array for a metric without selectors).
    public var instances: () -> [[String]]

    public init(
        _ display: String, _ dimension: Dimension, _ summary: String,
        instances: @escaping () -> [[String]] = { [[]] }, value: @escaping ([String]) -> Double?
    ) {
        self.display = display
        self.pattern = MetricPath.parse(display).pattern
        self.dimension = dimension
        self.summary = summary
        self.value = value
        self.instances = instances
    }

    /// The concrete names that exist now, with selectors filled in.
    public func concreteNames() -> [String] { instances().map { MetricPath.fill(pattern, with: $0) } }
}

/// A metric name split into its pattern and selectors: `link[a.b].bytes` → (`link[].bytes`, ["a.b"]).
public enum MetricPath {
    public static func parse(_ name: String) -> (pattern: String, selectors: [String]) {
        var pattern = ""
        var selectors: [String] = []
        var depth = 0
        var current = ""
        for character in name {
            switch character {
            case "[" where depth == 0:
                depth = 1
                current = ""
                pattern.append("[")
            case "]" where depth == 1:
                depth = 0
                selectors.append(current)
                pattern.append("]")
            default:
                if depth > 0 { current.append(character) } else { pattern.append(character) }
            }
        }
        return (pattern, selectors)
    }

    /// `pattern` with its `[]` filled by `selectors` in order.
    public static func fill(_ pattern: String, with selectors: [String]) -> String {
        var remaining = selectors[...]
        var out = ""
        for character in pattern {
            out.append(character)
            if character == "[", let next = remaining.popFirst() { out += next }
        }
        return out
    }
}
