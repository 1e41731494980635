extension CommandLine {
    /// The value token of `key`, if given (the last one wins).
    public func option(_ key: String) -> Token? { options.last { $0.key.text == key }?.value }

    /// Fails on any key outside `allowed`, a key given twice, or any positional beyond `maxPositionals`,
    /// naming it.
    public func check(allowedKeys allowed: [String], maxPositionals: Int) throws(ScenarioError) {
        for (index, option) in options.enumerated() {
            if let first = options[..<index].first(where: { $0.key.text == option.key.text }) {
                throw error(
                    "duplicate argument '\(option.key.text)' (already given at column \(first.key.column))",
                    at: option.key)
            }
        }
        for option in options where !allowed.contains(option.key.text) {
            let expected = allowed.isEmpty ? "takes no key=value arguments" : "takes " + allowed.joined(separator: ", ")
            throw error("unknown argument '\(option.key.text)': '\(command.text)' \(expected)", at: option.key)
        }
        if positionals.count > maxPositionals {
            let extra = positionals[maxPositionals]
            throw error("unexpected '\(extra.text)' after '\(command.text)' (see 'help \(command.text)')", at: extra)
        }
    }

    /// The quantity given for `key` in `dimension`, or `defaultValue` when absent.
    public func quantity(_ key: String, _ dimension: Dimension, default defaultValue: Double? = nil)
        throws(ScenarioError) -> Double
    {
        guard let token = option(key) else {
            guard let defaultValue else {
                throw error(
                    "missing argument \(key)=… (\(dimension.rawValue), e.g. \(key)=\(dimension.example))", at: command)
            }
            return defaultValue
        }
        return try quantity(of: token, dimension)
    }

    /// `token` parsed as a quantity of `dimension`, with the error pointing at it. Byte counts must be whole
    /// (`1.5B` is an error, `1.5KiB` is 1536 B) unless `wholeBytes` is false (comparisons in `expect`).
    public func quantity(of token: Token, _ dimension: Dimension, wholeBytes: Bool = true) throws(ScenarioError)
        -> Double
    {
        let value: Double
        do {
            value = try Quantity.parse(token.text, as: dimension).value
        } catch {
            throw self.error(error.description, at: token)
        }
        if wholeBytes, dimension == .bytes, value != value.rounded() {
            throw self.error(
                "'\(token.text)' is \(Quantity.compactNumber(value)) bytes, not a whole number of bytes", at: token)
        }
        return value
    }

    /// The whole number given for `key`, within `range`, or `defaultValue` when absent.
    public func integer(_ key: String, in range: ClosedRange<Int>, default defaultValue: Int? = nil)
        throws(ScenarioError) -> Int
    {
        guard let token = option(key) else {
            guard let defaultValue else { throw error("missing argument \(key)=N", at: command) }
            return defaultValue
        }
        return try integer(of: token, in: range)
    }

    /// `token` as a whole number within `range`.
    public func integer(of token: Token, in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard let value = Int(token.text) else {
            let hint = token.text.allSatisfy(\.isNumber) ? "is too large" : "is not a whole number"
            throw error("'\(token.text)' \(hint) (expected \(range.lowerBound)…\(range.upperBound))", at: token)
        }
        guard range.contains(value) else {
            throw error("\(value) is out of range (expected \(range.lowerBound)…\(range.upperBound))", at: token)
        }
        return value
    }

    /// The value given for `key` that must be one of `choices`, or `defaultValue` when absent.
    public func choice(_ key: String, _ choices: [String], default defaultValue: String? = nil) throws(ScenarioError)
        -> String
    {
        guard let token = option(key) else {
            guard let defaultValue else {
                throw error("missing argument \(key)=… (one of \(choices.joined(separator: ", ")))", at: command)
            }
            return defaultValue
        }
        guard choices.contains(token.text) else {
            throw error(
                "'\(token.text)' is not valid for \(key) (one of \(choices.joined(separator: ", ")))", at: token)
        }
        return token.text
    }
}
