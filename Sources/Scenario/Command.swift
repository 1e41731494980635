/// One command of the language: its help text, what completion offers, and what it does.
public struct Command {
    public var name: String
    /// The usage line, e.g. `run [until TIME | for TIME]`.
    public var synopsis: String
    /// One line for the `help` overview.
    public var summary: String
    /// Further lines for `help NAME`.
    public var details: [String]
    /// Words completion offers after the command name (sub-commands, keywords).
    public var completionWords: [String]
    /// Argument keys completion offers (`key=`).
    public var argumentKeys: [String]
    /// Argument keys of a sub-command (`trace html` has its own): offered instead of `argumentKeys` after it.
    public var subcommandKeys: [(word: String, names: [String])] = []
    public var perform: (CommandLine) throws -> Void

    public init(
        _ name: String, synopsis: String, summary: String, details: [String] = [], completionWords: [String] = [],
        argumentKeys: [String] = [], perform: @escaping (CommandLine) throws -> Void
    ) {
        self.name = name
        self.synopsis = synopsis
        self.summary = summary
        self.details = details
        self.completionWords = completionWords
        self.argumentKeys = argumentKeys
        self.perform = perform
    }
}

/// What executing one line led to, beyond its printed output.
public enum LineOutcome: Equatable {
    case done
    /// An `expect` line did not hold; the error says both values.
    case expectationFailed(ScenarioError)
    /// The line was malformed or could not be carried out.
    case failed(ScenarioError)
    /// Ctrl-C stopped the script after (or during) the line the error points at; the rest was not run.
    case interrupted(ScenarioError)
    case quit
}

/// Signals `quit` out of a command.
struct QuitRequest: Error {}

/// Marks a failed `expect` so the session can tell it from other errors.
struct ExpectationFailure: Error {
    var error: ScenarioError
}

/// Carries a sourced file's interruption out through the `source` line to the outer script.
struct ScriptInterruption: Error {
    var error: ScenarioError
}
