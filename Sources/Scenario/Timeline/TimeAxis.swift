import Foundation

/// Time-axis ticks and labels shared by the HTML timeline (the page's script uses the same rule) and the
/// terminal one: steps of 1, 2 or 5 × 10^k ns, labels in ns, µs, ms or s with at most three decimals.
enum TimeAxis {
    /// Tick instants in `fromNs...toNs`, at most about `maxTicks` of them, with their labels.
    static func ticks(fromNs: Int64, toNs: Int64, maxTicks: Int) -> [(ns: Int64, label: String)] {
        let range = max(1, toNs - fromNs)
        let step = niceStep(atLeast: Double(range) / Double(max(1, maxTicks)))
        var tick = (fromNs + step - 1) / step * step
        var out: [(Int64, String)] = []
        while tick <= toNs {
            out.append((tick, format(tick)))
            tick += step
        }
        return out
    }

    /// The smallest 1, 2 or 5 × 10^k (≥ 1) not below `minimum`.
    static func niceStep(atLeast minimum: Double) -> Int64 {
        var magnitude: Int64 = 1
        while true {
            for factor: Int64 in [1, 2, 5] where Double(factor * magnitude) >= minimum { return factor * magnitude }
            guard magnitude < Int64.max / 100 else { return magnitude }
            magnitude *= 10
        }
    }

    /// `ns` in the largest unit it reaches: `0`, `750 ns`, `12.5 µs`, `1.25 ms`, `2 s`.
    static func format(_ ns: Int64) -> String {
        if ns == 0 { return "0" }
        let magnitude = Double(ns.magnitude)
        let (scale, unit): (Double, String) =
            magnitude >= 1e9 ? (1e9, "s") : magnitude >= 1e6 ? (1e6, "ms") : magnitude >= 1e3 ? (1e3, "µs") : (1, "ns")
        var text = String(format: "%.3f", Double(ns) / scale)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + " " + unit
    }
}
