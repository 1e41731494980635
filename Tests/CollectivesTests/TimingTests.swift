import Collectives
import Hardware
import SimCore
import Testing

/// Uncontended collectives on one H800 node against the alpha-beta closed forms of REFERENCES.md.
///
/// A ring (or pairwise) step moves m = n/p bytes from each GPU to one other over comm.out (210 GB/s), the
/// GPU's NVLink (160 GB/s, 1.65 µs) and the NVSwitch port (160 GB/s, 1.65 µs): α = 3.3 µs, B = 160 GB/s. The
/// step's m bytes travel as s concurrent slices, each cut into the cluster's chunks (at least `minChunkBytes`,
/// at most `maxChunksPerMessage`), so a step costs `α + m/B + chunking`, where the chunking term is the
/// store-and-forward fill of one chunk c on the two non-bottleneck hops, `c/210 GB/s + c/160 GB/s`. With k
/// steps: `k α + k m/B + k · chunking`, i.e. `(p-1) α + (p-1)/p · n/B` for all-gather, reduce-scatter and
/// all-to-all and twice that for all-reduce, plus the chunking term (which vanishes as slices and chunks grow
/// in number, and is at most one chunk per step).
@Suite("Collective timing", .serialized)
struct TimingTests {
    static let alphaNs = 3_300.0
    static let nvlinkBytesPerSecond = 160e9
    static let commBytesPerSecond = 210e9

    /// The closed form with its chunking term, in ns, for `steps` steps of `stepBytes` in `slices` messages.
    static func closedFormNs(steps: Int, stepBytes: Int, slices: Int) -> Double {
        let message = Double(stepBytes) / Double(slices)
        let spec = ClusterSpec()
        let chunks = min(spec.maxChunksPerMessage, max(1, Int((message / Double(spec.minChunkBytes)).rounded(.up))))
        let chunk = message / Double(chunks)
        let chunking = chunk * 1e9 / commBytesPerSecond + chunk * 1e9 / nvlinkBytesPerSecond
        return Double(steps) * (alphaNs + Double(stepBytes) * 1e9 / nvlinkBytesPerSecond + chunking)
    }

    static let cases: [(kind: CollectiveKind, ranks: Int, bytes: Int)] = [
        CollectiveKind.allReduce, .allGather,
        .reduceScatter, .allToAll,
    ].flatMap { kind in
        [2, 4, 8].flatMap { ranks in [1 << 20, 48 << 20].map { (kind, ranks, $0) } }
    }

    @Test("time = steps × (α + (n/p)/B + chunking) within 2 %", arguments: cases)
    func closedForm(kind: CollectiveKind, ranks: Int, bytes: Int) throws {
        let communicator = try nodeCommunicator(size: ranks)
        let result = try CollectiveRunner.run(kind, sizeBytes: bytes, on: communicator, dtype: .bf16)
        let steps = (kind == .allReduce ? 2 : 1) * (ranks - 1)
        let stepBytes = bytes / ranks
        let slices = CollectiveRunner.slicing(for: kind, dtype: .bf16).sliceCount(elements: stepBytes / 2)
        let expected = Self.closedFormNs(steps: steps, stepBytes: stepBytes, slices: slices)
        let measured = Double(result.time.nanoseconds)
        #expect(
            abs(measured - expected) / expected < 0.02, "\(kind) p=\(ranks) \(bytes) B: \(measured) vs \(expected) ns")
        let pureAlphaBeta = Double(steps) * (Self.alphaNs + Double(stepBytes) * 1e9 / Self.nvlinkBytesPerSecond)
        #expect(measured > pureAlphaBeta, "the chunking term is positive")
    }

    @Test("busbw of an 8-GPU all-reduce rises with size towards the 160 GB/s NVLink bandwidth")
    func busbwApproachesLinkBandwidth() throws {
        let sizes = [1 << 20, 16 << 20, 256 << 20, 1 << 30]
        let busbw = try sizes.map { bytes in
            try CollectiveRunner.run(.allReduce, sizeBytes: bytes, on: try nodeCommunicator(size: 8))
                .busbwBytesPerSecond
        }
        #expect(zip(busbw, busbw.dropFirst()).allSatisfy { $0 < $1 }, "\(busbw)")
        #expect(busbw[0] < 0.5 * Self.nvlinkBytesPerSecond, "1 MiB is latency-bound: \(busbw[0])")
        #expect(busbw[3] > 0.95 * Self.nvlinkBytesPerSecond, "1 GiB: \(busbw[3])")
        #expect(busbw[3] <= Self.nvlinkBytesPerSecond)
    }

    @Test("algbw and busbw follow nccl-tests' definitions")
    func bandwidthDefinitions() throws {
        let result = try CollectiveRunner.run(.allGather, sizeBytes: 8 << 20, on: try nodeCommunicator(size: 4))
        #expect(result.algbwBytesPerSecond == Double(8 << 20) / result.time.seconds)
        #expect(result.busbwBytesPerSecond == result.algbwBytesPerSecond * 3 / 4)
        #expect(CollectiveKind.allReduce.busBandwidthFactor(rankCount: 8) == 1.75)
        #expect(CollectiveKind.broadcast.busBandwidthFactor(rankCount: 8) == 1)
        #expect(result.elementCount == 4 << 20)
    }
}
