import Foundation
import Scenario
import SimCore

/// Draws `ProgressLine` on standard output while a command drives the simulation, when standard output is a
/// terminal (silent otherwise). The executable is the one place that reads a wall clock: the emulator never
/// sees it, and the observer only reads the simulation, so the timeline is the same with or without it.
final class ProgressPrinter: DriveObserver {
    private var line: ProgressLine

    /// A printer; `MOESIM_PROGRESS_DELAY` (seconds, default 0.5) sets how long a run lasts before its first line.
    init() {
        let delay = ProcessInfo.processInfo.environment["MOESIM_PROGRESS_DELAY"].flatMap(Double.init) ?? 0.5
        line = ProgressLine(delaySeconds: max(0, delay))
    }

    /// Shows progress for every simulation `session` drives, from now on, if standard output is a terminal.
    static func install(on session: ScenarioSession) {
        guard isatty(STDOUT_FILENO) == 1 else { return }
        let printer = ProgressPrinter()
        session.simulation.driveObserver = printer
        session.onReset { $0.driveObserver = printer }
        session.onSideRun { $0.driveObserver = printer }
        // Output printed while a run draws its line (a process reporting mid-run) starts on a clean line.
        let print = session.output
        session.output = { text in
            printer.erase()
            print(text)
        }
    }

    func driveStarted(_ progress: DriveProgress) { line.start(progress, atSeconds: Self.seconds()) }

    func driveProgressed(_ progress: DriveProgress) {
        guard let text = line.update(progress, atSeconds: Self.seconds()) else { return }
        write("\r" + text + "\u{1B}[K")
    }

    func driveEnded(_ progress: DriveProgress) { erase() }

    /// Clears the line if one is drawn; the next progress call draws it again.
    func erase() {
        if line.end() { write("\r\u{1B}[K") }
    }

    private func write(_ text: String) {
        // After whatever the C stream still holds, straight to the descriptor.
        fflush(nil)
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Monotonic wall-clock seconds.
    private static func seconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
