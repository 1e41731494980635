extension ScenarioSession {
    /// The metric `token` names and its current value, or an error saying what exists.
    func resolve(_ token: Token, in line: CommandLine) throws(ScenarioError) -> (Metric, Double) {
        let (pattern, selectors) = MetricPath.parse(token.text)
        guard let metric = metrics.first(where: { $0.pattern == pattern }) else {
            let stem = token.text.split(separator: ".").first.map(String.init) ?? token.text
            let close = metrics.map(\.display).filter { $0.hasPrefix(String(stem.prefix(3))) }
            let hint = close.isEmpty ? "" : " (did you mean \(close.prefix(4).joined(separator: ", "))?)"
            throw line.error("unknown metric '\(token.text)'\(hint); see 'list metrics'", at: token)
        }
        guard let value = metric.value(selectors) else {
            let existing = metric.concreteNames()
            guard !selectors.isEmpty else {
                throw line.error(
                    "'\(token.text)' has no value yet: nothing it measures has finished (queue the work, then run)",
                    at: token)
            }
            let examples = existing.prefix(3).joined(separator: ", ")
            let known = existing.isEmpty ? "none exists yet" : "existing: \(examples)\(existing.count > 3 ? ", …" : "")"
            let what = selectors.map { "'\($0)'" }.joined(separator: ", ")
            throw line.error("'\(token.text)' has no value: nothing called \(what) has one now (\(known))", at: token)
        }
        return (metric, value)
    }

    /// `expect METRIC OP VALUE [± TOL]`.
    func performExpect(_ line: CommandLine) throws {
        try line.check(allowedKeys: [], maxPositionals: 5)
        let words = line.positionals
        guard words.count >= 3 else {
            throw line.error("usage: expect METRIC OP VALUE [± TOL], e.g. expect sim.now == 3us", at: line.command)
        }
        let (metric, actual) = try resolve(words[0], in: line)
        let comparison = words[1]
        guard Self.compare(comparison.text, 0, 0, tolerance: 0) != nil else {
            throw line.error("'\(comparison.text)' is not a comparison (== != < <= > >=)", at: comparison)
        }
        let expected = try line.quantity(of: words[2], metric.dimension, wholeBytes: false)
        let tolerance = try parseTolerance(Array(words.dropFirst(3)), expected: expected, metric: metric, line: line)
        if tolerance != nil && !["==", "!="].contains(comparison.text) {
            throw line.error("a tolerance goes with == or != only", at: words[3])
        }
        guard Self.compare(comparison.text, actual, expected, tolerance: tolerance?.value ?? 0) == true else {
            let tolText = tolerance.map { " ± " + $0.text } ?? ""
            let message =
                "expectation failed: \(words[0].text) is \(Quantity.format(actual, metric.dimension)), "
                + "expected \(comparison.text) \(Quantity.format(expected, metric.dimension))\(tolText)"
            throw ExpectationFailure(error: line.error(message, at: words[0]))
        }
        output("ok: \(words[0].text) = \(Quantity.format(actual, metric.dimension))")
    }

    private func parseTolerance(_ words: [Token], expected: Double, metric: Metric, line: CommandLine)
        throws(ScenarioError) -> (value: Double, text: String)?
    {
        guard let first = words.first else { return nil }
        var token = first
        if ["±", "+-"].contains(first.text) {
            guard words.count == 2 else { throw line.error("missing tolerance after '\(first.text)'", at: first) }
            token = words[1]
        } else if first.text.hasPrefix("±") || first.text.hasPrefix("+-") {
            let marker = first.text.hasPrefix("±") ? 1 : 2
            token = Token(
                text: String(first.text.dropFirst(marker)), column: first.column + marker,
                length: first.length - marker, isQuoted: false)
        } else {
            throw line.error("expected '±' (or '+-') before a tolerance, not '\(first.text)'", at: first)
        }
        if token.text.hasSuffix("%") {
            let percent = try line.quantity(
                of: Token(
                    text: String(token.text.dropLast()), column: token.column, length: token.length - 1, isQuoted: false
                ),
                .number)
            return (abs(expected) * percent / 100, token.text)
        }
        let value = try line.quantity(of: token, metric.dimension, wholeBytes: false)
        guard value >= 0 else { throw line.error("a tolerance cannot be negative", at: token) }
        return (value, Quantity.format(value, metric.dimension))
    }

    /// Whether `actual OP expected` holds, `==`/`!=` within `tolerance`; nil for an unknown operator.
    static func compare(_ op: String, _ actual: Double, _ expected: Double, tolerance: Double) -> Bool? {
        switch op {
        case "==": abs(actual - expected) <= tolerance
        case "!=": abs(actual - expected) > tolerance
        case "<": actual < expected
        case "<=": actual <= expected
        case ">": actual > expected
        case ">=": actual >= expected
        default: nil
        }
    }
}
