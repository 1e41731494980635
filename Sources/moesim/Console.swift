import CEditLine
import Foundation

/// Standard output and error kept in order when both go to one pipe (`2>&1`).
enum Console {
    /// Exit status after Ctrl-C, as shells report a SIGINT death (128 + 2).
    static let interruptedStatus: Int32 = 130

    /// Line-buffers standard output when it is not a terminal, so piped output interleaves with errors by line.
    static func configure() {
        if isatty(STDOUT_FILENO) == 0 { moesim_line_buffer_stdout() }
    }

    /// Writes `text` and a newline to standard error, after whatever standard output still holds.
    static func error(_ text: String) {
        fflush(nil)
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
