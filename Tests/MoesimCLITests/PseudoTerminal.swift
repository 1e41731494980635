import Foundation

/// A pseudo-terminal with a process on its far side, to drive the REPL as a person would.
final class PseudoTerminal {
    private let primary: Int32
    private let process = Process()
    private(set) var screen = ""

    /// Starts `executable` with `arguments` and `environment` on a new pseudo-terminal; `standardInput`, when
    /// given, replaces the terminal as its input (e.g. `moesim < file` typed at a terminal).
    init(
        executable: URL, arguments: [String], environment: [String: String], standardInput: FileHandle? = nil
    ) throws {
        var primaryFD: Int32 = 0
        var secondaryFD: Int32 = 0
        guard openpty(&primaryFD, &secondaryFD, nil, nil, nil) == 0 else { throw POSIXError(.EIO) }
        primary = primaryFD
        let secondary = FileHandle(fileDescriptor: secondaryFD, closeOnDealloc: true)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardInput = standardInput ?? secondary
        process.standardOutput = secondary
        process.standardError = secondary
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        close(primary)
    }

    /// Delivers SIGINT, as Ctrl-C on the process's controlling terminal would.
    func interrupt() { kill(process.processIdentifier, SIGINT) }

    /// Types `text` (may contain control characters such as Tab or Ctrl-D).
    func type(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(primary, $0.baseAddress, $0.count) }
    }

    /// Reads output until `marker` appears after `offset` in the screen text, or the safety limit passes.
    /// Returns whether it appeared.
    @discardableResult
    func waitFor(_ marker: String, after offset: Int = 0, limitSeconds: Int32 = 20) -> Bool {
        var waitedMs: Int32 = 0
        while !screen.dropFirst(offset).contains(marker) {
            var descriptor = pollfd(fd: primary, events: Int16(POLLIN), revents: 0)
            guard waitedMs < limitSeconds * 1000 else { return false }
            if poll(&descriptor, 1, 100) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = read(primary, &buffer, buffer.count)
                if count <= 0 { return screen.dropFirst(offset).contains(marker) }
                screen += String(decoding: buffer[..<count], as: UTF8.self)
            } else {
                waitedMs += 100
            }
        }
        return true
    }

    /// The screen offset just past the first `marker` after `offset` (the screen's end when it has not appeared).
    func end(of marker: String, after offset: Int) -> Int {
        let tail = screen.dropFirst(offset)
        guard let range = tail.range(of: marker) else { return screen.count }
        return offset + tail.distance(from: tail.startIndex, to: range.upperBound)
    }

    /// Waits for the process to end; returns its status.
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}
