import Foundation
import SimCore

/// The one-line progress display of a long run (REPL and `moesim run` on a terminal): virtual time, the share
/// of the step's work done (or events run, when nothing reports its work), and events per wall-clock second.
///
/// Pure: the caller passes wall-clock seconds in (only the executable reads a clock), so the throttle and the
/// text are tested without one. A drive shorter than `delaySeconds` shows nothing; afterwards the line is
/// redrawn at most once every `minimumIntervalSeconds` (10 times a second).
public struct ProgressLine: Sendable {
    /// Wall seconds a drive must last before its first line.
    public var delaySeconds: Double
    /// Least wall seconds between two redraws.
    public var minimumIntervalSeconds: Double
    /// Whether a line is on screen (to erase when the drive ends).
    public private(set) var isShowing = false
    private var startSeconds = 0.0
    private var startEvents: UInt64 = 0
    private var lastDrawSeconds: Double?

    /// A display that waits `delaySeconds` and redraws at most every `minimumIntervalSeconds`.
    public init(delaySeconds: Double = 0.5, minimumIntervalSeconds: Double = 0.1) {
        self.delaySeconds = delaySeconds
        self.minimumIntervalSeconds = minimumIntervalSeconds
    }

    /// A drive starts at wall time `seconds`.
    public mutating func start(_ progress: DriveProgress, atSeconds seconds: Double) {
        startSeconds = seconds
        startEvents = progress.events
        lastDrawSeconds = nil
        isShowing = false
    }

    /// The text to draw at wall time `seconds`, or nil when it is too early or too soon after the last one.
    public mutating func update(_ progress: DriveProgress, atSeconds seconds: Double) -> String? {
        let elapsed = seconds - startSeconds
        guard elapsed >= delaySeconds else { return nil }
        if let last = lastDrawSeconds, seconds - last < minimumIntervalSeconds { return nil }
        lastDrawSeconds = seconds
        isShowing = true
        let rate = elapsed > 0 ? Double(progress.events &- startEvents) / elapsed : 0
        return Self.format(progress, eventsPerSecond: rate)
    }

    /// The drive ended: whether a line must be erased.
    public mutating func end() -> Bool {
        defer { isShowing = false }
        return isShowing
    }

    /// `t=1.25ms · ops 40.0 % (1,200/3,000) · 1.20M events · 350k events/s`; without work counts,
    /// `t=1.25ms · 1.20M events · 350k events/s`.
    public static func format(_ progress: DriveProgress, eventsPerSecond: Double) -> String {
        var parts = ["\(progress.now)"]
        if progress.workTotal > 0 {
            let share = 100 * Double(progress.workDone) / Double(progress.workTotal)
            let unit = progress.workUnit.isEmpty ? "work" : progress.workUnit
            parts.append(
                "\(unit) \(String(format: "%.1f", share)) % (\(grouped(progress.workDone))/\(grouped(progress.workTotal)))"
            )
        }
        parts.append("\(compact(Double(progress.events))) events")
        parts.append("\(compact(eventsPerSecond)) events/s")
        return parts.joined(separator: " · ")
    }

    /// 950, 12.3k, 4.56M, 7.89G.
    static func compact(_ value: Double) -> String {
        switch value {
        case ..<1e3: String(format: "%.0f", value)
        case ..<1e6: String(format: "%.1fk", value / 1e3)
        case ..<1e9: String(format: "%.2fM", value / 1e6)
        default: String(format: "%.2fG", value / 1e9)
        }
    }

    /// 1,234,567.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }
}
