import ArgumentParser
import SimCore

/// `moesim-bench core`: the actor kernel against a plain event loop on the same all-to-all workload.
struct CoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core", abstract: "N actors message every other actor: actor kernel vs plain event loop.")

    @Option(help: "Number of actors.") var actors = 2048

    func run() throws {
        print("core benchmark: \(actors) actors (kernel arrives with the simulation core)")
    }
}
