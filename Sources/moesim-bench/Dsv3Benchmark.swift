import ArgumentParser
import Foundation
import Scenario
import SimCore

/// `moesim-bench dsv3`: one DeepSeek-V3 training step (issue 16) through the command language, as a user types
/// it: `cluster preset=dsv3` and `train model=dsv3 pp=16 ep=64 dp=128 zero=1 schedule=dualpipe microbatches=120
/// phantom`, then `run`; prints wall time, events, events/s, peak RSS, the step time, the trace's event count and
/// hash, and `show step`.
struct Dsv3Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dsv3",
        abstract: "One DeepSeek-V3 training step (PP16 x EP64 x ZeRO-1, DualPipe, phantom) on the 2048-GPU cluster.",
        discussion: """
            --preset dsv3-mini runs the 128-GPU version (PP4 x EP16 x DP_replica 2, 8 layers, m = 8). Extra keys \
            go to the train line with --train-args (e.g. "overlap=off mode=waved", or "a2a=flows", the flow-level \
            all-to-all; "replicas=once", each EP group's DP replicas emulated once) and to the cluster line with \
            --cluster-args (e.g. "min-chunk=8MiB", coarse chunks; "phantom-flows=on", every phantom message as a \
            flow; or "hbm=120GB"). Message by message the full step takes hours, with a2a=flows and \
            phantom-flows=on minutes: --wall-limit S stops it after S seconds and projects the whole step from its \
            op share.
            """)

    /// The layouts the bench knows.
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case dsv3
        case dsv3Mini = "dsv3-mini"

        /// `pp= ep= dp=` of the preset's step.
        var layout: String { self == .dsv3 ? "pp=16 ep=64 dp=128" : "pp=4 ep=16 dp=32" }
        /// M of the preset's step (`TrainingStepDefaults`).
        var microBatches: Int { self == .dsv3 ? 120 : 8 }
    }

    @Option(help: "dsv3 (2048 GPUs, m = 120) or dsv3-mini (128 GPUs, m = 8).") var preset: Preset = .dsv3
    @Option(help: "Layers of the model (train layers=; default the preset's).") var layers: Int?
    @Option(help: "Micro-batches per pipeline group (train microbatches=; default the preset's M).")
    var microbatches: Int?
    @Option(help: "The schedule (train schedule=).") var schedule = "dualpipe"
    @Option(help: "More keys for the train line, e.g. \"overlap=off\".") var trainArgs = ""
    @Option(help: "More keys for the cluster line, e.g. \"min-chunk=4MiB\".") var clusterArgs = ""
    @Option(help: "Seconds between progress lines on standard error while the step runs (0: none).")
    var progress = 10.0
    @Flag(help: "Keep every trace event (memory grows with the run; default: the trace hash only).")
    var keepTrace = false
    @Option(help: "Stop after this many wall seconds and project the whole step's wall time from its op share.")
    var wallLimit: Double?

    func run() throws {
        let trace = keepTrace ? "" : " trace=hash"
        let cluster = "cluster preset=\(preset.rawValue)\(trace) \(clusterArgs)".trimmingCharacters(in: .whitespaces)
        var train =
            "train model=\(preset.rawValue) \(preset.layout) zero=1 schedule=\(schedule) "
            + "microbatches=\(microbatches ?? preset.microBatches)"
        if let layers { train += " layers=\(layers)" }
        if !trainArgs.isEmpty { train += " \(trainArgs)" }
        train += " phantom"
        let sink = Sink()
        let session = ScenarioSession(output: { [sink] in sink.lines.append($0) })
        let printer =
            progress > 0 || wallLimit != nil
            ? BenchProgress(intervalSeconds: progress, wallLimitSeconds: wallLimit) { session.simulation.requestStop() }
            : nil
        if let printer {
            session.onReset { $0.driveObserver = printer }
            session.onSideRun { $0.driveObserver = printer }
        }
        let clock = ContinuousClock()
        let total = clock.now
        try execute(cluster, in: session, sink: sink)
        let build = try timed(clock) { try execute(train, in: session, sink: sink) }
        let simulate = try timed(clock) { try execute("run", in: session, sink: sink) }
        let wall = seconds(clock.now - total)
        let events = session.simulation.eventCount
        if let stopped = printer?.stoppedAt {
            return printProjection(stopped, simulateSeconds: simulate, events: events)
        }
        try execute("print train.step_time", in: session, sink: sink)
        let stepTime = sink.lines.last ?? "?"
        let before = sink.lines.count
        try execute("show step", in: session, sink: sink, echo: false)
        let report = sink.lines[before...].joined(separator: "\n")
        let recorder = session.simulation.trace
        print(
            """
            wall: \(format(wall)) s (train line, building the \(preset == .dsv3 ? 2048 : 128) workers and checking HBM: \
            \(format(build)) s; run: \(format(simulate)) s)
            events: \(events), \(format(Double(events) / max(simulate, 1e-9), digits: 0)) events/s over the run\
            \(trainArgs.contains("compare=") ? " (the main run's events; the run's wall time includes the compare= runs)" : "")
            peak RSS: \(ProcessMemory.peakDescription())
            step time: \(stepTime)
            trace: \(recorder.eventCount) events, hash \(String(recorder.hash, radix: 16)) (as `show trace` prints it)
            show step:
            \(report)
            """)
    }

    /// The wall-limit report: how far the step got and, at its op rate so far, how long the whole step takes.
    private func printProjection(_ progress: DriveProgress, simulateSeconds: Double, events: UInt64) {
        let share = progress.workTotal > 0 ? Double(progress.workDone) / Double(progress.workTotal) : 0
        let projection =
            share > 0
            ? "\(duration(simulateSeconds / share)) for the whole step at this op rate "
                + "(\(format(simulateSeconds, digits: 1)) s / \(format(100 * share, digits: 2)) %; linear)"
            : "no op finished: no projection"
        print(
            """
            stopped at the wall limit: \(progress.now) of virtual time, ops \(progress.workDone) of \
            \(progress.workTotal), \(events) events, \(format(Double(events) / max(simulateSeconds, 1e-9), digits: 0)) \
            events/s, peak RSS \(ProcessMemory.peakDescription())
            projected: \(projection)
            """)
    }

    /// What the session printed, in order.
    final class Sink { var lines: [String] = [] }

    /// Runs `line`, echoing it and what it printed; a refused line ends the bench with its error.
    private func execute(_ line: String, in session: ScenarioSession, sink: Sink, echo: Bool = true) throws {
        let before = sink.lines.count
        let outcome = session.execute(line, file: "dsv3", line: 1)
        if echo {
            print("> \(line)")
            for text in sink.lines[before...] { print(text) }
        }
        if case .failed(let error) = outcome {
            print(error.description)
            throw ExitCode.failure
        }
    }

    private func timed(_ clock: ContinuousClock, _ body: () throws -> Void) rethrows -> Double {
        let start = clock.now
        try body()
        return seconds(clock.now - start)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// `seconds` in s, min or h, whichever reads best.
    private func duration(_ seconds: Double) -> String {
        if seconds < 120 { return "\(format(seconds, digits: 0)) s" }
        return seconds < 7200 ? "\(format(seconds / 60, digits: 0)) min" : "\(format(seconds / 3600, digits: 1)) h"
    }

    private func format(_ value: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
}
