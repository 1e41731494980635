import SimCore

/// One expert-parallel layer's span names (`gate moe`, `B moe`, …), their categories and its ranks' `moe` lanes
/// in its simulation's trace, interned on first use and then found by index: every rank records five spans per
/// forward call, which otherwise built each name and looked its text up again.
///
/// Interning on first use keeps the trace's string table and hash exactly what recording the same spans by
/// their text gives. Confined to the simulation's executor like the trace recorder it caches for.
final class EPTraceNames: @unchecked Sendable {
    /// The phases a layer records, in `recordForward`'s and `recordBackward`'s order.
    enum Phase: Int, CaseIterable {
        case gate, dispatchCounts, dispatch, experts, combine, backward, weights

        /// The phase word before the layer's prefix.
        var word: String {
            switch self {
            case .gate: "gate"
            case .dispatchCounts: "dispatch counts"
            case .dispatch: "dispatch"
            case .experts: "experts"
            case .combine: "combine"
            case .backward: "B"
            case .weights: "W"
            }
        }

        /// The span's `category` argument.
        var category: String {
            switch self {
            case .gate: "kernel"
            case .dispatchCounts, .dispatch: "dispatch"
            case .experts: "MLP"
            case .combine: "combine"
            case .backward: "B"
            case .weights: "W"
            }
        }
    }

    /// The spans' argument keys.
    static let bytesKey = TraceName("bytes")
    static let categoryKey = TraceName("category")

    /// The recorder the indices belong to (the layer's simulation's).
    private let trace: TraceRecorder
    private let prefix: String
    /// Per phase: the recorder's index of its name and of its category (-1 until first recorded).
    private var nameIndex = [Int32](repeating: -1, count: Phase.allCases.count)
    private var categoryIndex = [Int32](repeating: -1, count: Phase.allCases.count)
    /// Per rank: its `moe` lane (nil until first recorded).
    private var tracks: [TraceTrackID?]

    /// The names of a layer whose spans end in `prefix`, for `rankCount` ranks, recorded in `trace`.
    init(prefix: String, rankCount: Int, trace: TraceRecorder) {
        self.trace = trace
        self.prefix = prefix
        tracks = Array(repeating: nil, count: rankCount)
    }

    /// Rank `rank`'s lane, created by `make` the first time (`make` alone for a rank outside the layer's).
    func track(rank: Int, make: () throws -> TraceTrackID) rethrows -> TraceTrackID {
        guard tracks.indices.contains(rank) else { return try make() }
        if let track = tracks[rank] { return track }
        let track = try make()
        tracks[rank] = track
        return track
    }

    /// Records `phase`'s span on `track` from `startNs` to `endNs` with its `bytes` and `category`, as
    /// `trace.span(track, word + " " + prefix, …, args: ["bytes": …, "category": …])` would.
    func span(_ phase: Phase, on track: TraceTrackID, startNs: Int64, endNs: Int64, bytes: Int) {
        let index = phase.rawValue
        if nameIndex[index] >= 0 {
            trace.beginSpan(track, interned: nameIndex[index], startNs: startNs, endNs: endNs)
        } else {
            nameIndex[index] = trace.beginSpan(track, named: phase.word + " " + prefix, startNs: startNs, endNs: endNs)
        }
        trace.addArgument(Self.bytesKey, Int64(bytes))
        if categoryIndex[index] >= 0 {
            trace.addArgument(Self.categoryKey, interned: categoryIndex[index])
        } else {
            categoryIndex[index] = trace.addArgument(Self.categoryKey, phase.category)
        }
        trace.endRecord()
    }
}
