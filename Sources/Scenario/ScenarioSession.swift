import Foundation
import SimCore

/// The interpreter of the command language: one emulated world, the commands and metrics that act on it, and
/// the output they print. The REPL, scenario files and tests all drive it line by line.
public final class ScenarioSession {
    /// The current simulation (replaced by `seed` and by the cluster command).
    public private(set) var simulation: Simulation
    /// The root seed of the current simulation.
    public private(set) var seed: UInt64
    /// Receives every line the commands print.
    public var output: (String) -> Void
    /// Commands in help order.
    public private(set) var commands: [Command] = []
    /// Topics of `show`, in help order.
    public private(set) var showTopics: [Command] = []
    /// Metrics in `list metrics` order.
    public private(set) var metrics: [Metric] = []
    /// Called after the simulation is replaced, so components rebuild their state on it.
    private var resetHandlers: [(Simulation) -> Void] = []
    private var sideRunHandlers: [(Simulation) -> Void] = []
    /// Completion sources for `command key=VALUE`.
    var valueCompleters: [(command: String, key: String, candidates: () -> [String])] = []
    var sourceDepth = 0
    /// The trace and timeline commands (exports need the cluster's names).
    var traceCommands: TraceCommands?
    /// Asked after each line of a script (file, `source`, piped input); true stops it as interrupted. The
    /// front end answers whether Ctrl-C was pressed.
    public var interruptRequested: () -> Bool = { false }
    /// Components that add commands (kept alive by the session).
    private var components: [AnyObject] = []
    /// Checks run after every `run` and `step`; each returns what broke, or nil.
    private(set) var runChecks: [() -> String?] = []
    /// The most events one `run` or `step` may take (nil: no limit); the fuzzer bounds its inputs with it.
    public var eventBudgetPerRun: UInt64?
    /// Whether `source` and `trace export` may touch files (the fuzzer turns this off).
    public var allowsFileAccess = true
    /// Whether the simulations the session builds from now on keep their trace events (`cluster trace=full`) or
    /// only their hash (`trace=hash`, for runs too large to keep, e.g. `moesim-bench dsv3`; `trace export` and
    /// `show timeline` then refuse).
    public private(set) var storesTraceEvents = true
    /// How deeply `source` may nest.
    public static let maxSourceDepth = 8

    /// A session on a fresh world with the default cluster (one node of 8 H800).
    public init(seed: UInt64 = 0, output: @escaping (String) -> Void = { print($0) }) {
        self.seed = seed
        self.output = output
        simulation = Simulation(seed: seed)
        registerBuiltins()
        let clusterCommands = ClusterCommands(session: self, spec: ClusterPreset.h800Node.spec)
        components.append(clusterCommands)
        components.append(ScheduleCommands(session: self))
        components.append(TrainCommands(session: self, clusterCommands: clusterCommands))
        traceCommands = TraceCommands(session: self, clusterCommands: clusterCommands)
        components.append(MoECommands(session: self, clusterCommands: clusterCommands))
        components.append(MemoryCommands(session: self))
        components.append(FaultCommands(session: self, clusterCommands: clusterCommands))
    }

    // MARK: - Extension points

    /// The registered command component of type `T` (e.g. for `train` to hand `show schedule` its timeline).
    func component<T: AnyObject>(_ type: T.Type) -> T? {
        components.lazy.compactMap { $0 as? T }.first
    }

    /// Adds a command (a later one with the same name replaces it).
    public func register(_ command: Command) {
        commands.removeAll { $0.name == command.name }
        commands.append(command)
    }

    /// Adds a topic of `show`.
    public func registerShow(_ topic: Command) {
        showTopics.removeAll { $0.name == topic.name }
        showTopics.append(topic)
    }

    /// Adds a metric family.
    public func register(_ metric: Metric) {
        metrics.removeAll { $0.pattern == metric.pattern }
        metrics.append(metric)
    }

    /// Offers `values()` when completing `key=` of `command` (e.g. cluster presets).
    public func registerValues(command: String, key: String, _ candidates: @escaping () -> [String]) {
        valueCompleters.append((command, key, candidates))
    }

    /// Adds a check to run after every `run` and `step` (e.g. conservation); it returns what broke, or nil.
    public func addRunCheck(_ check: @escaping () -> String?) { runChecks.append(check) }

    /// Runs `handler` whenever the simulation is replaced.
    public func onReset(_ handler: @escaping (Simulation) -> Void) { resetHandlers.append(handler) }

    /// Runs `handler` with a simulation a command drives besides the session's (a `compare=` run) before it
    /// runs, and with the session's own once it is done, so progress display and Ctrl-C follow it.
    public func onSideRun(_ handler: @escaping (Simulation) -> Void) { sideRunHandlers.append(handler) }

    /// Runs `body`, which drives `side`, with the side-run handlers pointed at `side` meanwhile.
    func drivingSide<T>(_ side: Simulation, _ body: () throws -> T) rethrows -> T {
        for handler in sideRunHandlers { handler(side) }
        defer { for handler in sideRunHandlers { handler(simulation) } }
        return try body()
    }

    /// Replaces the simulation with a fresh one at time zero, seeded with `seed`.
    /// The old world is shut down first; what it left running is printed (see `Simulation.shutdown`).
    /// `storesTraceEvents` (kept for later resets when nil) chooses between a full trace and its hash only.
    public func resetSimulation(seed newSeed: UInt64? = nil, storesTraceEvents keeps: Bool? = nil) {
        let shutdown = simulation.shutdown()
        if !shutdown.isClean { output("previous world \(shutdown)") }
        seed = newSeed ?? seed
        storesTraceEvents = keeps ?? storesTraceEvents
        simulation = Simulation(seed: seed, storesTraceEvents: storesTraceEvents)
        for handler in resetHandlers { handler(simulation) }
    }

    // MARK: - Executing

    /// Executes one line; errors are returned, never thrown, so the REPL keeps running.
    public func execute(_ source: String, file: String = "<repl>", line: Int = 1) -> LineOutcome {
        do {
            guard let commandLine = try Lexer.lex(source, file: file, line: line) else { return .done }
            let name = commandLine.command.text == "exit" ? "quit" : commandLine.command.text
            guard let command = commands.first(where: { $0.name == name }) else {
                throw commandLine.error(unknownCommandMessage(commandLine.command.text), at: commandLine.command)
            }
            try command.perform(commandLine)
            return .done
        } catch let failure as ExpectationFailure {
            return .expectationFailed(failure.error)
        } catch let error as ScenarioError {
            return .failed(error)
        } catch let interruption as ScriptInterruption {
            return .interrupted(interruption.error)
        } catch is QuitRequest {
            return .quit
        } catch {
            let location = SourceLocation(file: file, line: line, column: 1)
            return .failed(ScenarioError(String(describing: error), at: location, sourceLine: source))
        }
    }

    /// Runs a whole scenario text; stops at the first error or failed `expect` and returns it.
    public func runScript(_ text: String, file: String) -> LineOutcome {
        for (index, rawLine) in text.components(separatedBy: "\n").enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : rawLine
            let outcome = execute(line, file: file, line: index + 1)
            if case .interrupted = outcome { return outcome }
            if interruptRequested() { return .interrupted(interruption(file: file, line: index + 1, source: line)) }
            if outcome != .done { return outcome }
        }
        return .done
    }

    /// The error that says where Ctrl-C stopped a script: the line it was running and the virtual time.
    public func interruption(file: String, line: Int, source: String) -> ScenarioError {
        ScenarioError(
            "interrupted (Ctrl-C) at \(simulation.now) on this line; the rest was not run",
            at: SourceLocation(file: file, line: line, column: 1), sourceLine: source,
            length: max(1, source.count))
    }

    /// Runs the scenario file at `path` (see `runScript`); unreadable or non-UTF-8 files are errors.
    public func runFile(_ path: String) -> LineOutcome {
        switch ScenarioFile.read(path) {
        case .success(let text): return runScript(text, file: path)
        case .failure(let error): return .failed(error)
        }
    }

    private func unknownCommandMessage(_ name: String) -> String {
        let close = commands.map(\.name).filter { $0.hasPrefix(String(name.prefix(2))) }
        let hint = close.isEmpty ? "" : " (did you mean \(close.joined(separator: ", "))?)"
        return "unknown command '\(name)'\(hint); type 'help' for the list"
    }
}
