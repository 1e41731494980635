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

    /// A printer that writes a line every `intervalSeconds` of wall time.
    init(intervalSeconds: Double) {
        line = ProgressLine(delaySeconds: intervalSeconds, minimumIntervalSeconds: intervalSeconds)
        origin = clock.now
    }

    func driveStarted(_ progress: DriveProgress) { line.start(progress, atSeconds: seconds()) }

    func driveProgressed(_ progress: DriveProgress) {
        guard let text = line.update(progress, atSeconds: seconds()) else { return }
        FileHandle.standardError.write(Data("progress: \(text)\n".utf8))
    }

    func driveEnded(_ progress: DriveProgress) { _ = line.end() }

    private func seconds() -> Double {
        let elapsed = clock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
