import Foundation

/// Reads scenario files, rejecting bytes that are not UTF-8 with the line and column of the first bad byte.
public enum ScenarioFile {
    /// The text of the file at `path`; a file that cannot be read is an error at line 0 naming the OS's reason.
    public static func read(_ path: String) -> Result<String, ScenarioError> {
        switch FileAccess.read(path) {
        case .success(let bytes): return decode(bytes, file: path)
        case .failure(let problem):
            let location = SourceLocation(file: path, line: 0, column: 0)
            return .failure(ScenarioError("cannot read '\(path)': \(problem)", at: location, sourceLine: ""))
        }
    }

    /// `bytes` as text, or an error at the first invalid UTF-8 byte.
    public static func decode(_ bytes: [UInt8], file: String) -> Result<String, ScenarioError> {
        var lineNumber = 1
        var lineStart = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") || index == bytes.count - 1 {
            let end = byte == UInt8(ascii: "\n") ? index : index + 1
            let lineBytes = Array(bytes[lineStart..<end])
            if String(validating: lineBytes, as: UTF8.self) == nil {
                let prefixLength = validPrefixLength(lineBytes)
                let column = String(decoding: lineBytes[..<prefixLength], as: UTF8.self).count + 1
                let shown = String(decoding: lineBytes, as: UTF8.self)
                let hex = String(lineBytes[prefixLength], radix: 16, uppercase: true)
                return .failure(
                    ScenarioError(
                        "invalid UTF-8 byte 0x\(hex): scenario files must be UTF-8 text",
                        at: SourceLocation(file: file, line: lineNumber, column: column), sourceLine: shown))
            }
            lineNumber += 1
            lineStart = index + 1
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    private static func validPrefixLength(_ bytes: [UInt8]) -> Int {
        var length = bytes.count
        while length > 0 && String(validating: bytes[..<length], as: UTF8.self) == nil { length -= 1 }
        return length
    }
}
