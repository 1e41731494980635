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
        Int64(k) * intervalNs + 100 + Int64((sender &* 7_919 &+ k &* 104_729) % 800)
    }

    /// Folds one delivery into a receiver's running checksum (order-sensitive).
    static func fold(_ checksum: UInt64, timeNs: Int64, sender: Int) -> UInt64 {
        (checksum ^ UInt64(bitPattern: timeNs) ^ (UInt64(sender) << 40)) &* 0x0000_0100_0000_01b3
    }

    /// Combines the receivers' checksums in node order into one timeline checksum.
    static func combine(_ checksums: [UInt64]) -> UInt64 {
        var hasher = StableHasher()
        for checksum in checksums { hasher.combine(checksum) }
        return hasher.finalize()
    }
}
