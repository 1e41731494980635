/// What a number in the command language measures, and the units it may be written in.
public enum Dimension: String, Sendable, CaseIterable {
    /// Virtual time; base unit ns.
    case time
    /// A byte count; base unit B.
    case bytes
    /// Bytes per second; base unit B/s.
    case bandwidth
    /// A plain number (counts, ratios, schedule time units).
    case number

    /// Unit suffixes and their size in the base unit, longest first so prefixes do not shadow them.
    public var units: [(suffix: String, scale: Double)] {
        switch self {
        case .time: [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        case .bytes:
            [
                ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
                ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
            ]
        case .bandwidth:
            [
                ("KiB/s", 1024), ("MiB/s", 1_048_576), ("GiB/s", 1_073_741_824), ("KB/s", 1e3), ("MB/s", 1e6),
                ("GB/s", 1e9), ("TB/s", 1e12), ("Gb/s", 1.25e8), ("B/s", 1),
            ]
        case .number: [("%", 0.01)]
        }
    }

    /// An example of a well-formed value, for error messages.
    public var example: String {
        switch self {
        case .time: "3us"
        case .bytes: "64MiB"
        case .bandwidth: "160GB/s"
        case .number: "8"
        }
    }
}
