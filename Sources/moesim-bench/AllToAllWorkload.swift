import SimCore

/// The core benchmark's workload: every node sends one message to every other node. Node `i` sends its k-th
/// message (to node `(i + k) % n`) at `k · intervalNs`, and it arrives a pair-specific latency later.
struct AllToAllWorkload: Sendable {
    let nodeCount: Int
    let intervalNs: Int64 = 1_000

    var messageCount: Int { nodeCount * (nodeCount - 1) }

    func destination(of sender: Int, message k: Int) -> Int { (sender + k) % nodeCount }

    /// Arrival time of `sender`'s k-th message; latencies stay below the interval, so arrivals keep send order.
    func arrivalNs(of sender: Int, message k: Int) -> Int64 {
        var hasher = StableHasher()
        hasher.combine(UInt64(sender))
        hasher.combine(UInt64(k))
        return Int64(k) * intervalNs + 100 + Int64(hasher.finalize() % 800)
    }

    /// Folds one delivery into a receiver's running checksum (order-sensitive).
    static func fold(_ checksum: UInt64, timeNs: Int64, sender: Int) -> UInt64 {
        var hasher = StableHasher()
        hasher.combine(checksum)
        hasher.combine(timeNs)
        hasher.combine(UInt64(sender))
        return hasher.state
    }

    /// Combines the receivers' checksums in node order into one timeline checksum.
    static func combine(_ checksums: [UInt64]) -> UInt64 {
        var hasher = StableHasher()
        for checksum in checksums { hasher.combine(checksum) }
        return hasher.finalize()
    }
}
