/// A 64-bit hash that is the same in every process and run (unlike `Hasher`, which is seeded per process).
public struct StableHasher: Sendable {
    private static let prime: UInt64 = 0x0000_0100_0000_01b3
    /// The running state; starts at the FNV-1a offset basis.
    public private(set) var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Mixes one 64-bit word in.
    @inline(__always)
    public mutating func combine(_ word: UInt64) {
        state = (state ^ word) &* StableHasher.prime
        state ^= state >> 29
    }

    /// Mixes a signed word in.
    @inline(__always)
    public mutating func combine(_ value: Int64) { combine(UInt64(bitPattern: value)) }

    /// Mixes the UTF-8 bytes of `text` in, then its length.
    public mutating func combine(_ text: String) {
        var text = text
        // One pass over contiguous UTF-8 (native strings always are), the same bytes in the same order.
        let count = text.withUTF8 { bytes in
            var state = self.state
            for byte in bytes { state = (state ^ UInt64(byte)) &* StableHasher.prime }
            self.state = state
            return bytes.count
        }
        combine(UInt64(count))
    }

    /// The final hash (an avalanche of the state).
    public func finalize() -> UInt64 {
        var x = state
        x = (x ^ (x >> 33)) &* 0xff51_afd7_ed55_8ccd
        x = (x ^ (x >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return x ^ (x >> 33)
    }

    /// The stable hash of one string.
    public static func hash(_ text: String) -> UInt64 {
        var hasher = StableHasher()
        hasher.combine(text)
        return hasher.finalize()
    }
}
