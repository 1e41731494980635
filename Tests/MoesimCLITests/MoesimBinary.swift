import Foundation
import Testing

/// Runs the built `moesim` executable (it sits next to the test bundle in the build folder).
enum MoesimBinary {
    static func url() throws -> URL {
        let bundleDirectory = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [bundleDirectory, Bundle.main.bundleURL].map { $0.appendingPathComponent("moesim") }
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
    }

    /// The repository root (for scenarios/).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Runs moesim with `arguments` and `input` on standard input; returns (exit status, stdout, stderr).
    static func run(_ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = repositoryRoot
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Runs moesim with standard output and error on one pipe (as `2>&1` does); returns (status, output).
    static func runMerged(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let stdin = Pipe()
        let output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The lines of a scenario whose `run` outlasts any test on any machine, then `tail`: 3000 sends of 64 MiB
    /// cut into 65,536 chunks each (2·10^8 chunks, hours of work even in a release build), each event short
    /// enough that Ctrl-C stops it within a second. Line 3002 is `print sim.processes`, 3003 the first of `tail`.
    static func longScenarioLines(tail: [String]) -> [String] {
        let sends = (0..<3_000).map { "send from=gpu\($0 % 8) to=gpu\(($0 + 1 + $0 / 8 % 7) % 8) size=64MiB" }
        return ["cluster chunks=65536 min-chunk=1B"] + sends + ["print sim.processes"] + tail
    }

    /// `longScenarioLines(tail:)` written to `long.moesim` in `directory`.
    static func longScenario(in directory: URL, tail: [String]) throws -> URL {
        let file = directory.appendingPathComponent("long.moesim")
        try longScenarioLines(tail: tail).joined(separator: "\n").appending("\n")
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A fresh empty folder under the temporary directory (the caller removes it).
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The REPL on a pseudo-terminal with `home` as HOME, once it shows its prompt.
    static func startRepl(home: URL) throws -> PseudoTerminal {
        let terminal = try PseudoTerminal(
            executable: url(), arguments: [], environment: ["HOME": home.path, "TERM": "xterm"])
        #expect(terminal.waitFor("moesim> "))
        return terminal
    }
}
