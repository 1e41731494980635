/// One token of a command line.
public struct Token: Equatable, Sendable {
    /// The token's text, without quotes.
    public var text: String
    /// 1-based column of the token's first character.
    public var column: Int
    /// Characters the token spans in the source (quotes included).
    public var length: Int
    /// Whether it was written in quotes (then it is never split at `=`).
    public var isQuoted: Bool
}

/// A `key=value` argument.
public struct KeyValue: Equatable, Sendable {
    public var key: Token
    public var value: Token
}

/// A lexed command line: the command word, positional tokens and key=value arguments, in order.
public struct CommandLine: Equatable, Sendable {
    public var command: Token
    public var positionals: [Token]
    public var options: [KeyValue]
    /// Where the line came from, for errors.
    public var file: String
    public var lineNumber: Int
    public var source: String

    /// An error pointing at `token`.
    public func error(_ message: String, at token: Token) -> ScenarioError {
        ScenarioError(
            message, at: SourceLocation(file: file, line: lineNumber, column: token.column), sourceLine: source,
            length: token.length)
    }
}

/// Splits command lines into tokens: whitespace separates, `#` starts a comment, double quotes group.
public enum Lexer {
    /// A token before `key=value` splitting; `quoteOffset` is where quoted text began inside it.
    struct RawToken {
        var token: Token
        var quoteOffset: Int?
    }

    /// The tokens of `source` (one line), or nil for a blank or comment-only line.
    public static func lex(_ source: String, file: String, line: Int) throws(ScenarioError) -> CommandLine? {
        let rawTokens = try tokens(of: source, file: file, line: line)
        guard let first = rawTokens.first?.token else { return nil }
        var result = CommandLine(
            command: first, positionals: [], options: [], file: file, lineNumber: line, source: source)
        if first.isQuoted || first.text.contains("=") {
            throw result.error("a line starts with a command name, not '\(first.text)'", at: first)
        }
        for raw in rawTokens.dropFirst() {
            if let option = try splitOption(raw, in: result) {
                result.options.append(option)
            } else {
                result.positionals.append(raw.token)
            }
        }
        return result
    }

    /// Splits `key=value` (the value may be quoted: `name="a b"`); operators like `==` and `<=` stay whole.
    private static func splitOption(_ raw: RawToken, in line: CommandLine) throws(ScenarioError) -> KeyValue? {
        let token = raw.token
        guard !token.isQuoted, let equals = token.text.firstIndex(of: "=") else { return nil }
        let key = String(token.text[..<equals])
        let value = String(token.text[token.text.index(after: equals)...])
        // Operators (`==`, `<=`, `~=`) are words, not arguments: a key needs a letter or digit.
        if key.isEmpty || !key.contains(where: { $0.isLetter || $0.isNumber }) || value.hasPrefix("=") {
            return nil
        }
        guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw line.error("'\(key)' is not a valid argument name", at: token)
        }
        let valueQuoted = raw.quoteOffset == key.count + 1
        guard !value.isEmpty || valueQuoted else { throw line.error("missing value after '\(key)='", at: token) }
        let keyToken = Token(text: key, column: token.column, length: key.count, isQuoted: false)
        let valueToken = Token(
            text: value, column: token.column + key.count + 1, length: max(1, token.length - key.count - 1),
            isQuoted: valueQuoted)
        return KeyValue(key: keyToken, value: valueToken)
    }

    private static func tokens(of source: String, file: String, line: Int) throws(ScenarioError) -> [RawToken] {
        let characters = Array(source)
        var tokens: [RawToken] = []
        var index = 0
        while index < characters.count {
            if characters[index].isWhitespace {
                index += 1
                continue
            }
            if characters[index] == "#" { break }
            let start = index
            var text = ""
            var quoteOffset: Int?
            while index < characters.count, !characters[index].isWhitespace, characters[index] != "#" {
                guard characters[index] == "\"" else {
                    text.append(characters[index])
                    index += 1
                    continue
                }
                guard let close = characters[(index + 1)...].firstIndex(of: "\"") else {
                    let location = SourceLocation(file: file, line: line, column: index + 1)
                    throw ScenarioError(
                        "unterminated quote: add a closing \"", at: location, sourceLine: source,
                        length: characters.count - index)
                }
                quoteOffset = quoteOffset ?? text.count
                text += String(characters[(index + 1)..<close])
                index = close + 1
            }
            let token = Token(text: text, column: start + 1, length: index - start, isQuoted: quoteOffset == 0)
            tokens.append(RawToken(token: token, quoteOffset: quoteOffset))
        }
        return tokens
    }
}
