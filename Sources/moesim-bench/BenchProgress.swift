import Foundation
import Scenario
import SimCore

/// Prints `ProgressLine`'s text as its own line on standard error every `intervalSeconds` of a drive (virtual
/// time, the step's ops done, events, events/s), so a long bench run, or one cut off by a timeout, shows how far
/// it got. Only reads the simulation between events: the timeline is the same with or without it.
final class BenchProgress: DriveObserver {
    private var line: ProgressLine
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    /// Wall seconds after which `stop` is called once (nil: no limit).
    private let wallLimitSeconds: Double?
    private let stop: () -> Void
    /// The progress when the wall limit stopped the drive, if it did.
    private(set) var stoppedAt: DriveProgress?

    /// A printer that writes a line every `intervalSeconds` of wall time (never when it is 0) and calls `stop`
    /// once `wallLimitSeconds` have passed.
    init(intervalSeconds: Double, wallLimitSeconds: Double?, stop: @escaping () -> Void) {
        let interval = intervalSeconds > 0 ? intervalSeconds : .infinity
        line = ProgressLine(delaySeconds: interval, minimumIntervalSeconds: interval)
        origin = clock.now
        self.wallLimitSeconds = wallLimitSeconds
        self.stop = stop
    }

    func driveStarted(_ progress: DriveProgress) { line.start(progress, atSeconds: seconds()) }

    func driveProgressed(_ progress: DriveProgress) {
        let now = seconds()
        if let wallLimitSeconds, stoppedAt == nil, now >= wallLimitSeconds {
            stoppedAt = progress
            stop()
        }
        guard let text = line.update(progress, atSeconds: now) else { return }
        FileHandle.standardError.write(Data("progress: \(text)\n".utf8))
    }

    func driveEnded(_ progress: DriveProgress) { _ = line.end() }

    private func seconds() -> Double {
        let elapsed = clock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
