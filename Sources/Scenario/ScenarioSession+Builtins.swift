import Foundation
import SimCore

extension ScenarioSession {
    func registerBuiltins() {
        registerDrivingCommands()
        registerInspectionCommands()
        registerSessionCommands()
        register(
            Metric("sim.now", .time, "current virtual time") { [unowned self] _ in
                Double(simulation.now.nanosecondsSinceStart)
            })
        register(
            Metric("sim.events", .number, "events (jobs) run so far") { [unowned self] _ in
                Double(simulation.eventCount)
            })
        register(
            Metric("sim.processes", .number, "simulated processes still running") { [unowned self] _ in
                Double(simulation.liveProcessCount)
            })
    }

    private func registerDrivingCommands() {
        register(
            Command(
                "run", synopsis: "run [until TIME | for TIME]",
                summary: "advance virtual time until done, or to/for a time; prints why it stopped",
                details: [
                    "run            until every process ends (or deadlocks)", "run until 2ms  stop at t=2ms",
                    "run for 500us  stop 500µs from now",
                ],
                completionWords: ["until", "for"]
            ) { [unowned self] line in try performRun(line) })
        register(
            Command(
                "step", synopsis: "step [N]", summary: "run N events (default 1); prints where it stopped"
            ) { [unowned self] line in
                try line.check(allowedKeys: [], maxPositionals: 1)
                let count = try line.positionals.first.map { try line.integer(of: $0, in: 1...1_000_000_000) } ?? 1
                report(simulation.step(events: min(UInt64(count), eventBudgetPerRun ?? .max)))
                try checkAfterRun(line)
            })
    }

    private func performRun(_ line: CommandLine) throws(ScenarioError) {
        try line.check(allowedKeys: [], maxPositionals: 2)
        guard let mode = line.positionals.first else {
            report(simulation.run(until: nil, maxEvents: eventBudgetPerRun))
            return try checkAfterRun(line)
        }
        guard mode.text == "until" || mode.text == "for" else {
            throw line.error("expected 'until TIME' or 'for TIME' after 'run', not '\(mode.text)'", at: mode)
        }
        guard line.positionals.count == 2 else {
            throw line.error("missing time after '\(mode.text)', e.g. 3ms", at: mode)
        }
        let nanoseconds = try line.quantity(of: line.positionals[1], .time)
        guard nanoseconds >= 0, nanoseconds < 9e18 else {
            throw line.error("time must be between 0 and 9e18 ns", at: line.positionals[1])
        }
        let duration = SimDuration(nanoseconds: Int64(nanoseconds.rounded()))
        let limit = mode.text == "until" ? SimInstant.start + duration : simulation.now + duration
        guard limit >= simulation.now else {
            throw line.error(
                "the clock is already at \(simulation.now), past \(line.positionals[1].text) "
                    + "('run for TIME' runs on from now)", at: line.positionals[1])
        }
        report(simulation.run(until: limit, maxEvents: eventBudgetPerRun))
        try checkAfterRun(line)
    }

    /// Runs the checks components registered with `addRunCheck`; the first that fails fails the line.
    func checkAfterRun(_ line: CommandLine) throws(ScenarioError) {
        for check in runChecks {
            if let problem = check() { throw line.error(problem, at: line.command) }
        }
    }

    /// Prints where and why driving stopped.
    func report(_ reason: StopReason) {
        let total = Self.count(Int(simulation.eventCount), "event")
        switch reason {
        case .reachedEventCount(let count):
            output("\(simulation.now): stopped after \(Self.count(Int(count), "event")) (\(total) so far)")
        default:
            output("\(simulation.now): \(reason) (\(total) so far)")
        }
    }

    /// `1 event`, `3 events`.
    static func count(_ value: Int, _ noun: String) -> String { "\(value) \(noun)\(value == 1 ? "" : "s")" }

    private func registerInspectionCommands() {
        register(
            Command(
                "show", synopsis: "show TOPIC [ARGS]", summary: "inspect state without advancing time",
                details: ["topics: time, trace, and those the cluster and schedule commands add"],
                completionWords: ["time", "trace"]
            ) { [unowned self] line in try performShow(line) })
        registerShow(
            Command("time", synopsis: "show time", summary: "virtual time and event count") {
                [unowned self] line in
                try line.check(allowedKeys: [], maxPositionals: 1)
                output(
                    "now \(simulation.now), \(simulation.eventCount) events, \(simulation.liveProcessCount) live processes"
                )
            })
        registerShow(
            Command("trace", synopsis: "show trace [last=N]", summary: "the last recorded trace events") {
                [unowned self] line in
                try line.check(allowedKeys: ["last"], maxPositionals: 1)
                let last = try line.integer("last", in: 1...100_000, default: 20)
                let events = simulation.trace.events.suffix(last)
                output("\(simulation.trace.eventCount) trace events, hash \(String(simulation.trace.hash, radix: 16))")
                for event in events {
                    let args = event.args.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
                    output("  \(event.start)…\(event.end) \(event.actor)/\(event.lane) \(event.name) \(args)")
                }
            })
        register(
            Command("print", synopsis: "print METRIC…", summary: "print metrics by name (see 'list metrics')") {
                [unowned self] line in
                try line.check(allowedKeys: [], maxPositionals: .max)
                guard !line.positionals.isEmpty else {
                    throw line.error("missing metric name, e.g. sim.now", at: line.command)
                }
                for token in line.positionals {
                    let (metric, value) = try resolve(token, in: line)
                    output("\(token.text) = \(Quantity.format(value, metric.dimension))")
                }
            })
        register(
            Command(
                "expect", synopsis: "expect METRIC OP VALUE [± TOL | ± P%]",
                summary: "check a metric (OP is == != < <= > >=); a failure prints both values",
                details: [
                    "expect sim.now == 3us", "expect collective.last.busbw >= 150GB/s",
                    "expect schedule.bubble == 21 ± 1%",
                ]
            ) { [unowned self] line in try performExpect(line) })
        register(
            Command(
                "list", synopsis: "list metrics|commands", summary: "list the metrics that exist now, or commands",
                completionWords: ["metrics", "commands"]
            ) { [unowned self] line in try performList(line) })
    }

    private func performShow(_ line: CommandLine) throws {
        guard let topicToken = line.positionals.first else {
            throw line.error("missing topic: show " + showTopics.map(\.name).joined(separator: "|"), at: line.command)
        }
        guard let topic = showTopics.first(where: { $0.name == topicToken.text }) else {
            let names = showTopics.map(\.name).joined(separator: ", ")
            throw line.error("unknown topic '\(topicToken.text)' (show \(names))", at: topicToken)
        }
        try topic.perform(line)
    }

    private func performList(_ line: CommandLine) throws(ScenarioError) {
        try line.check(allowedKeys: [], maxPositionals: 1)
        switch line.positionals.first?.text {
        case "commands":
            var table = TextTable([.init("command", .left), .init("summary", .left)])
            for command in commands { table.add([command.name, command.summary]) }
            table.lines().dropFirst().forEach(output)
        case "metrics", nil:
            for metric in metrics {
                let names = metric.concreteNames()
                let shown =
                    names.count <= 4 ? names.joined(separator: ", ") : metric.display + " (\(names.count) of them)"
                if !names.isEmpty { output("\(shown)  [\(metric.dimension.rawValue)]  \(metric.summary)") }
            }
        default:
            throw line.error("list what? 'list metrics' or 'list commands'", at: line.positionals[0])
        }
    }

    private func registerSessionCommands() {
        register(
            Command("seed", synopsis: "seed N", summary: "set the root seed and restart the world at t=0") {
                [unowned self] line in
                try line.check(allowedKeys: [], maxPositionals: 1)
                guard let token = line.positionals.first else {
                    throw line.error("missing seed, e.g. seed 42", at: line.command)
                }
                guard let value = UInt64(token.text) else {
                    throw line.error("'\(token.text)' is not a seed (a whole number 0…\(UInt64.max))", at: token)
                }
                resetSimulation(seed: value)
                output("seed \(value): world restarted at t=0")
            })
        register(
            Command("source", synopsis: "source FILE", summary: "run the commands of a scenario file") {
                [unowned self] line in try performSource(line)
            })
        register(
            Command("help", synopsis: "help [COMMAND]", summary: "list commands, or explain one") {
                [unowned self] line in
                try line.check(allowedKeys: [], maxPositionals: 1)
                try line.positionals.first.map { token throws(ScenarioError) in try output(help(for: token, in: line)) }
                    ?? output(helpOverview())
            })
        register(
            Command("quit", synopsis: "quit", summary: "leave moesim (also 'exit' or Ctrl-D)") { line in
                try line.check(allowedKeys: [], maxPositionals: 0)
                throw QuitRequest()
            })
    }

    private func performSource(_ line: CommandLine) throws {
        try line.check(allowedKeys: [], maxPositionals: 1)
        guard let token = line.positionals.first else { throw line.error("missing file name", at: line.command) }
        guard allowsFileAccess else { throw line.error("file access is off in this session", at: token) }
        guard sourceDepth < Self.maxSourceDepth else {
            throw line.error(
                "'source' nested more than \(Self.maxSourceDepth) deep (a file sourcing itself?)", at: token)
        }
        let base = URL(fileURLWithPath: line.file).deletingLastPathComponent()
        let path =
            token.text.hasPrefix("/") || line.file.hasPrefix("<")
            ? token.text
            : base.appendingPathComponent(token.text).path
        let text: String
        switch FileAccess.read(path) {
        case .failure(let problem): throw line.error("cannot read '\(token.text)': \(problem)", at: token)
        case .success(let bytes):
            switch ScenarioFile.decode(bytes, file: path) {
            case .failure(let error): throw error
            case .success(let decoded): text = decoded
            }
        }
        sourceDepth += 1
        defer { sourceDepth -= 1 }
        switch runScript(text, file: path) {
        case .done: return
        case .quit: throw QuitRequest()
        case .expectationFailed(let error): throw ExpectationFailure(error: error)
        case .failed(let error): throw error
        case .interrupted(let error): throw ScriptInterruption(error: error)
        }
    }
}
