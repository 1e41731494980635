import ArgumentParser
import Foundation
import SimCore

/// `moesim-bench core`: the actor kernel against a plain event loop on the same all-to-all workload.
struct CoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "N actors message every other actor with a modelled delay: actor kernel vs plain event loop.")

    @Option(help: "Number of actors (nodes).") var actors = 2048

    func validate() throws {
        guard actors >= 2 else { throw ValidationError("--actors must be at least 2, got \(actors)") }
    }

    func run() throws {
        let workload = AllToAllWorkload(nodeCount: actors)
        print("workload: \(actors) actors, \(workload.messageCount) messages (one timer + one delivery each)")
        let clock = ContinuousClock()

        ProcessMemory.resetPeak()
        var plainResult = (events: 0, checksum: UInt64(0))
        var loop = PlainEventLoop(workload: workload)
        let plainTime = clock.measure { plainResult = loop.run() }
        let plainRate = Double(plainResult.events) / plainTime.secondsValue
        print(line("plain loop", rate: plainRate, time: plainTime, checksum: plainResult.checksum))

        ProcessMemory.resetPeak()
        var actorResult = (reason: StopReason.finished, checksum: UInt64(0), jobs: UInt64(0))
        let actorTime = clock.measure { actorResult = ActorKernelWorkload.run(workload) }
        let actorRate = Double(workload.messageCount) / actorTime.secondsValue
        print(line("actor kernel", rate: actorRate, time: actorTime, checksum: actorResult.checksum))
        let jobsPerMessage = Double(actorResult.jobs) / Double(workload.messageCount)
        print(String(format: "actor kernel: %.3f executor jobs per message", jobsPerMessage))

        print(String(format: "ratio: plain loop is %.2fx faster than the actor kernel", plainRate / actorRate))
        guard actorResult.reason == .finished, plainResult.events == workload.messageCount else {
            throw ValidationError("the actor run stopped early: \(actorResult.reason)")
        }
        guard actorResult.checksum == plainResult.checksum else {
            throw ValidationError("timeline checksums differ: the two loops did not produce the same timeline")
        }
        print("timeline checksums match")
    }

    private func line(_ name: String, rate: Double, time: Duration, checksum: UInt64) -> String {
        let hex = String(checksum, radix: 16)
        return "\(name): \(Int(rate)) events/s, wall \(String(format: "%.3f", time.secondsValue)) s, "
            + "peak RSS \(ProcessMemory.peakDescription()), checksum \(hex)"
    }
}

extension Duration {
    /// The duration in seconds as a Double (benchmarks only).
    var secondsValue: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
