/// Where a piece of scenario text came from: file (or `<repl>`), 1-based line and column.
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// An error in a scenario line, pointing at the offending token.
public struct ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    /// The whole source line, for the caret display.
    public var sourceLine: String
    /// How many characters the caret underlines (at least one).
    public var length: Int

    public init(_ message: String, at location: SourceLocation, sourceLine: String, length: Int = 1) {
        self.message = message
        self.location = location
        self.sourceLine = sourceLine
        self.length = max(1, length)
    }

    /// `file:line:col: error: message`, the line, and a caret under the token.
    public var description: String {
        // Line 0: about the whole file (it could not be read), so there is no line to show.
        guard location.line > 0 else { return "\(location.file): error: \(message)" }
        let pad = String(repeating: " ", count: max(0, location.column - 1))
        let marks = "^" + String(repeating: "~", count: length - 1)
        return "\(location): error: \(message)\n    \(sourceLine)\n    \(pad)\(marks)"
    }
}
