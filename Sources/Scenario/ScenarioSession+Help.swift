extension ScenarioSession {
    /// How `help` groups the commands; a command missing here is listed under "Other".
    static let helpGroups: [(title: String, names: [String])] = [
        ("Build the world", ["cluster", "seed"]),
        ("Queue work", ["send", "collective", "kernel", "alloc", "free", "schedule", "fault"]),
        ("Train and parallelise", ["train", "moe", "memory"]),
        ("Drive virtual time", ["run", "step"]),
        ("Inspect and check", ["show", "print", "expect", "check", "list", "trace"]),
        ("Session", ["source", "help", "quit"]),
    ]

    /// The `help` overview: every command by group, name and one-line summary.
    public func helpOverview() -> String {
        let width = (commands.map(\.name.count).max() ?? 0) + 2
        let grouped = Set(Self.helpGroups.flatMap(\.names))  // lookup only, never iterated
        let groups = Self.helpGroups + [("Other", commands.map(\.name).filter { !grouped.contains($0) })]
        var lines = ["Commands ('help COMMAND' shows its arguments):"]
        for group in groups {
            let members = group.names.compactMap { name in commands.first { $0.name == name } }
            guard !members.isEmpty else { continue }
            lines.append(group.title + ":")
            lines += members.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary }
        }
        lines.append("Lines starting with # are comments; values take units: 64MiB 1.5GB 160GB/s 3us 2.5ms.")
        lines.append(CommandLine.dtypeHelp + ".")
        return lines.joined(separator: "\n")
    }

    /// `help NAME`: the command's usage, summary and details (for `show`, every topic).
    func help(for token: Token, in line: CommandLine) throws(ScenarioError) -> String {
        guard let command = commands.first(where: { $0.name == token.text }) else {
            throw line.error("no command '\(token.text)'; type 'help' for the list", at: token)
        }
        var lines = ["usage: \(command.synopsis)", "  \(command.summary)"]
        lines += command.details.map { "  " + $0 }
        if !command.argumentKeys.isEmpty {
            lines.append("  arguments: " + command.argumentKeys.map { $0 + "=" }.joined(separator: " "))
        }
        for entry in command.subcommandKeys where !entry.names.isEmpty {
            lines.append("  arguments of \(entry.word): " + entry.names.map { $0 + "=" }.joined(separator: " "))
        }
        if command.name == "show" {
            let width = (showTopics.map(\.synopsis.count).max() ?? 0) + 2
            lines += showTopics.map {
                "  " + $0.synopsis.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Candidates for completing `prefix` at the end of `partialLine` (commands, words, keys, metrics).
    public func completions(for partialLine: String) -> [String] {
        let words = partialLine.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let prefix = words.last ?? ""
        guard words.count > 1 else { return commands.map(\.name).filter { $0.hasPrefix(prefix) } }
        let commandName = words[0]
        var candidates: [String] = []
        if let command = commands.first(where: { $0.name == commandName }) {
            let showTopic =
                command.name == "show" && words.count > 2 ? showTopics.first(where: { $0.name == words[1] }) : nil
            if let showTopic {
                // After `show TOPIC` only the topic's words: `show memory ` offers `all`, not other topics.
                candidates += showTopic.completionWords + showTopic.argumentKeys.map { $0 + "=" }
            } else if words.count > 2, let entry = command.subcommandKeys.first(where: { $0.word == words[1] }) {
                candidates += entry.names.map { $0 + "=" }
            } else {
                candidates += command.completionWords + command.argumentKeys.map { $0 + "=" }
                if command.name == "show" { candidates += showTopics.map(\.name) }
            }
            if command.name == "help" { candidates += commands.map(\.name) }
            if ["print", "expect"].contains(command.name) { candidates += metrics.flatMap { $0.concreteNames() } }
        }
        if let equals = prefix.firstIndex(of: "=") {
            let key = String(prefix[..<equals])
            return valueCompletions(command: commandName, key: key).map { key + "=" + $0 }
                .filter { $0.hasPrefix(prefix) }
        }
        var seen: [String] = []
        for candidate in candidates where candidate.hasPrefix(prefix) && !seen.contains(candidate) {
            seen.append(candidate)
        }
        return seen
    }

    /// Value completions for `key=` of `command`, registered by components (e.g. presets).
    func valueCompletions(command: String, key: String) -> [String] {
        valueCompleters.first { $0.command == command && $0.key == key }?.candidates() ?? []
    }
}
