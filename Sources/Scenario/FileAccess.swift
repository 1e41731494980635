import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reading scenario files and writing output files with plain reasons on failure: the OS's own words
/// (`No such file or directory`), never a Foundation error domain.
public enum FileAccess {
    /// The largest scenario file read (a guard against `source /dev/zero` or a huge file by mistake).
    public static let maxReadBytes = 64 * 1_048_576

    /// The bytes of the regular file at `path`, or why they cannot be read.
    public static func read(_ path: String) -> Result<[UInt8], FileProblem> {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return .failure(.os(errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(.os(errno)) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            return .failure((status.st_mode & S_IFMT) == S_IFDIR ? .os(EISDIR) : .notRegular)
        }
        guard status.st_size <= maxReadBytes else { return .failure(.tooLarge(Int(status.st_size))) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(.os(errno))
            }
            if count == 0 { return .success(bytes) }
            bytes += buffer[..<count]
            if bytes.count > maxReadBytes { return .failure(.tooLarge(bytes.count)) }
        }
    }

    /// Why a file could not be written at `path` right now, or nil when it can: the folder must exist and be
    /// writable, and `path` must not be a folder.
    public static func writeProblem(_ path: String) -> FileProblem? {
        guard !path.isEmpty else { return .os(ENOENT) }
        var status = stat()
        if stat(path, &status) == 0 {
            if (status.st_mode & S_IFMT) == S_IFDIR { return .os(EISDIR) }
            return access(path, W_OK) == 0 ? nil : .os(errno)
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard stat(folder, &status) == 0 else { return .os(errno) }
        guard (status.st_mode & S_IFMT) == S_IFDIR else { return .os(ENOTDIR) }
        return access(folder, W_OK) == 0 ? nil : .os(errno)
    }

    /// Writes `text` to `path` (created or truncated); returns why it failed, or nil.
    public static func write(_ text: String, to path: String) -> FileProblem? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { return .os(errno) }
        defer { close(descriptor) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .os(errno)
            }
            bytes = bytes.dropFirst(count)
        }
        return nil
    }
}

/// Why a file could not be read or written.
public enum FileProblem: Error, Equatable, CustomStringConvertible {
    /// The OS refused, with this `errno`.
    case os(Int32)
    /// Not a regular file (a device, a pipe, a socket).
    case notRegular
    /// Larger than `FileAccess.maxReadBytes`.
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .os(let code): String(cString: strerror(code))
        case .notRegular: "not a regular file"
        case .tooLarge(let bytes): "too large (\(bytes) bytes; at most \(FileAccess.maxReadBytes))"
        }
    }
}
