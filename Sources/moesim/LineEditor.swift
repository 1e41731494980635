import CEditLine
import Foundation
import Scenario

/// libedit line editing: prompt, history persisted to ~/.moesim_history, Tab completion from the session.
final class LineEditor {
    /// History lines kept on disk.
    static let historyLimit: Int32 = 1_000
    let historyPath: String

    init(session: ScenarioSession) {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.currentDirectoryPath
        historyPath = (home as NSString).appendingPathComponent(".moesim_history")
        CompletionSource.session = session
        moesim_set_word_breaks(" \t")
        moesim_set_completion_generator(completionGenerator)
        moesim_set_attempted_completion(attemptedCompletion)
        using_history()
        stifle_history(Self.historyLimit)
        _ = read_history(historyPath)
    }

    /// One edited line without its trailing space; nil at end of input (Ctrl-D).
    func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw).trimmingCharacters(in: .whitespaces)
        if !line.isEmpty { add_history(line) }
        return line
    }

    func saveHistory() { _ = write_history(historyPath) }
}

/// The completion candidates for the current Tab press (libedit calls a plain C function).
enum CompletionSource {
    nonisolated(unsafe) static var session: ScenarioSession?
    nonisolated(unsafe) static var candidates: [String] = []
}

/// libedit's whole-word completion: the session's candidates inserted as plain text (no file-name quoting),
/// followed by a space only when the single match is a finished word (not `key=`, `link[`, `gpu0.`).
private let attemptedCompletion: moesim_attempted_completion = { text, _, _ in
    guard let text else { return nil }
    let matches = moesim_completion_matches(text, completionGenerator)
    let single = CompletionSource.candidates.count == 1 ? CompletionSource.candidates[0] : nil
    let continues = single.map { ["=", ".", "[", ","].contains($0.last ?? " ") } ?? false
    moesim_set_append_character(continues ? 0 : 32)
    return matches
}

/// libedit's generator: state 0 computes the candidates for the line so far, then returns them one by one.
private let completionGenerator: moesim_completion_generator = { _, state in
    if state == 0 {
        let line = moesim_line_buffer().map { String(cString: $0) } ?? ""
        let upToCursor = String(line.prefix(Int(moesim_completion_start())))
        CompletionSource.candidates = CompletionSource.session?.completions(for: upToCursor) ?? []
    }
    let index = Int(state)
    guard index < CompletionSource.candidates.count else { return nil }
    return strdup(CompletionSource.candidates[index])
}
