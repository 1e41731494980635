import Foundation

/// Lines of piped standard input read with read(2), so that Ctrl-C (EINTR, no SA_RESTART) ends a blocked read:
/// `Swift.readLine` retries getline on EINTR and spins.
final class PipedLineReader {
    private var buffer: [UInt8] = []

    /// The next line without its newline (`\n` or `\r\n`); nil at end of input or when Ctrl-C interrupted the read.
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let end = newline > 0 && buffer[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            // A Ctrl-C that came while the last line ran must not wait for the next read to be interrupted.
            if InterruptHandler.pending { return nil }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer += chunk[..<count]
            } else if count < 0 && errno == EINTR && !InterruptHandler.pending {
                continue
            } else {
                guard count == 0, !buffer.isEmpty else { return nil }
                defer { buffer = [] }
                return String(decoding: buffer, as: UTF8.self)
            }
        }
    }
}
