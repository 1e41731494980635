/// Why a hardware operation or configuration was refused; each case names the offending value.
public enum HardwareError: Error, Equatable, CustomStringConvertible {
    /// An allocation would exceed the GPU's HBM capacity.
    case outOfMemory(gpu: String, kind: MemoryKind, requestedBytes: Int, usedBytes: Int, capacityBytes: Int)
    /// A free of more bytes of a kind than are allocated.
    case freeExceedsAllocation(gpu: String, kind: MemoryKind, requestedBytes: Int, allocatedBytes: Int)
    /// A specification or option field with an unusable value.
    case invalidParameter(name: String, value: String, reason: String)
    /// A GPU index outside the cluster.
    case unknownGPU(index: Int, gpuCount: Int)
    /// A link name that the cluster does not have.
    case unknownLink(name: String)

    public var description: String {
        switch self {
        case .outOfMemory(let gpu, let kind, let requested, let used, let capacity):
            "out of memory on \(gpu): requested \(requested) bytes of \(kind.rawValue) with \(used) of "
                + "\(capacity) bytes in use (\(capacity - used) free)"
        case .freeExceedsAllocation(let gpu, let kind, let requested, let allocated):
            "\(gpu): cannot free \(requested) bytes of \(kind.rawValue), only \(allocated) allocated"
        case .invalidParameter(let name, let value, let reason):
            "invalid \(name) \(value): \(reason)"
        case .unknownGPU(let index, let count):
            "no gpu\(index): the cluster has gpu0...gpu\(count - 1)"
        case .unknownLink(let name):
            "no link named '\(name)'"
        }
    }

    /// Throws `invalidParameter` unless `value` is positive.
    static func requirePositive(_ value: Double, _ name: String) throws {
        guard value > 0, value.isFinite else {
            throw HardwareError.invalidParameter(name: name, value: "\(value)", reason: "must be positive")
        }
    }

    /// The slowest rate a link or an SM may have: 1 MB/s keeps every modelled transfer inside Int64 nanoseconds.
    static let minimumBytesPerSecond = 1e6

    /// Throws `invalidParameter` unless `value` is a rate of at least `minimumBytesPerSecond`.
    static func requireRate(_ value: Double, _ name: String) throws {
        guard value >= minimumBytesPerSecond, value.isFinite else {
            throw HardwareError.invalidParameter(name: name, value: "\(value)", reason: "must be at least 1 MB/s")
        }
    }

    /// Throws `invalidParameter` unless `value` is zero or more.
    static func requireNonNegative(_ value: Int64, _ name: String) throws {
        guard value >= 0 else {
            throw HardwareError.invalidParameter(name: name, value: "\(value)", reason: "must not be negative")
        }
    }
}
