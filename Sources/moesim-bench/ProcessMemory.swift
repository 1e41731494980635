import Foundation

/// Peak resident memory of this process, read from Linux's /proc.
enum ProcessMemory {
    /// VmHWM (peak resident set) in bytes, or nil where /proc is unavailable.
    static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        let kibibytes = line.split(separator: " ").compactMap { Int($0) }.first
        return kibibytes.map { $0 * 1024 }
    }

    /// Resets the peak to the current resident set, so the next phase measures its own peak.
    static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// The peak as MiB text, or "n/a".
    static func peakDescription() -> String {
        guard let bytes = peakResidentBytes() else { return "n/a" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
