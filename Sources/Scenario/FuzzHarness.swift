/// Runs one fuzzer input through the lexer, parser and interpreter, and traps on anything that breaks the
/// language's promises: a crash or a hang anywhere, an error that points outside its line, or a conservation
/// check that fails (the interpreter checks after every `run` and `step`).
///
/// Each input is UTF-8-decoded as a scenario file would be, then run line by line in a fresh session with
/// bounded work: no file access, a budget of events per run, clusters of at most `maxGPUs`, messages of at
/// most `maxRealBytes` (real) or `maxPhantomBytes`. Lines beyond those bounds are skipped, not run. Shared by `moesim-fuzz` (libFuzzer
/// under `make fuzz`, or a replay of files) and the test suite, which replays the kept regression inputs.
public enum FuzzHarness {
    /// Lines run per input; the rest are ignored.
    public static let maxLines = 100
    /// Events one `run` or `step` may take.
    public static let eventBudgetPerRun: UInt64 = 5_000
    /// The largest cluster an input may build.
    public static let maxGPUs = 32
    /// The largest `real` send or collective an input may queue.
    public static let maxRealBytes = 1_048_576.0
    /// The largest phantom send or collective (bigger ones only cost the fuzzer time: more chunks and slices).
    public static let maxPhantomBytes = 16.0 * 1_048_576

    /// Runs `bytes` as a scenario; returns how many lines ran (skipped and blank lines excluded).
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Int {
        guard case .success(let text) = ScenarioFile.decode(bytes, file: "fuzz.moesim") else { return 0 }
        let session = ScenarioSession(output: { _ in })
        session.allowsFileAccess = false
        session.eventBudgetPerRun = eventBudgetPerRun
        session.simulation.executor.trapsOnForeignEnqueue = true
        var ran = 0
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(maxLines)
            .enumerated()
        {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            guard isWithinBounds(line) else { continue }
            let outcome = session.execute(line, file: "fuzz.moesim", line: index + 1)
            session.simulation.executor.trapsOnForeignEnqueue = true
            ran += 1
            switch outcome {
            case .done: continue
            case .quit: return ran
            case .failed(let error), .expectationFailed(let error), .interrupted(let error):
                check(error, line: line, number: index + 1)
            }
        }
        return ran
    }

    /// An error must name this line and point inside it (or just past its end, for a missing argument), and
    /// never be a conservation failure: those mean the emulator lost or duplicated something.
    private static func check(_ error: ScenarioError, line: String, number: Int) {
        precondition(error.location.line == number, "error on line \(error.location.line), not \(number): \(error)")
        precondition(
            error.location.column >= 1 && error.location.column <= line.count + 1,
            "error column \(error.location.column) outside a line of \(line.count) characters: \(error)")
        precondition(!error.message.hasPrefix("conservation check failed"), "\(error)")
    }

    /// Whether `line` stays inside the work bounds (lines that do not lex are run: they must fail cleanly).
    static func isWithinBounds(_ line: String) -> Bool {
        guard let parsed = try? Lexer.lex(line, file: "fuzz.moesim", line: 1) else { return true }
        func number(_ key: String) -> Double? {
            parsed.option(key).flatMap { try? Quantity.parse($0.text, as: .number).value }
        }
        switch parsed.command.text {
        case "cluster":
            if let preset = parsed.option("preset")?.text, ["8-nodes", "dsv3", "dsv3-mini"].contains(preset) {
                return false
            }
            let nodes = number("nodes") ?? (parsed.option("preset")?.text == "2-nodes" ? 2 : 1)
            let perNode = number("gpus-per-node") ?? 8
            return nodes * perNode <= Double(maxGPUs)
        case "send", "collective":
            guard let size = parsed.option("size"), let bytes = try? Quantity.parse(size.text, as: .bytes).value
            else { return true }
            let isReal = parsed.positionals.contains { $0.text == "real" }
            return bytes <= (isReal ? maxRealBytes : maxPhantomBytes)
        default:
            return true
        }
    }
}
