import SimCore

/// One span (or a run of merged tiny spans) on a timeline lane.
public struct TimelineSpan: Equatable, Sendable {
    public var name: String
    public var startNs: Int64
    public var endNs: Int64
    public var category: SpanCategory
    /// The trace record it came from; nil for a merged run.
    public var recordIndex: Int?
    /// How many recorded spans it stands for (1 unless merged).
    public var mergedCount = 1
    /// Time the merged spans actually cover (their durations summed).
    public var busyNs: Int64
    public var bytes: Int64 = 0
    public var flops: Double = 0
    /// The micro-batch (`mb` argument), if the span names one.
    public var microBatch: Int64?

    public var durationNs: Int64 { endNs - startNs }
}

/// One row of a timeline: a GPU's compute SMs, its comm SMs, one of its links, or another actor's lane.
public struct TimelineLane: Sendable {
    public enum Kind: String, Sendable {
        case compute
        case comm
        case link
        case other
    }

    /// The GPU (`gpu3`) or actor the lane belongs to.
    public var group: String
    /// `compute SMs`, `comm SMs`, `NVLink out`, …
    public var label: String
    public var kind: Kind
    /// The trace tracks whose spans the lane shows.
    public var tracks: [Int] = []
    /// Spans sorted by start, end, recording order.
    public var spans: [TimelineSpan] = []
}

/// The executed timeline of a run, built from the trace: lanes in display order and their spans.
public struct Timeline: Sendable {
    public var lanes: [TimelineLane]
    /// The time the timeline starts and ends (ns of virtual time).
    public var startNs: Int64
    public var endNs: Int64
    /// Recorded spans shown, before any merging.
    public var recordedSpanCount: Int

    /// Rectangles drawn (after merging).
    public var spanCount: Int { lanes.reduce(0) { $0 + $1.spans.count } }
}

/// What a timeline shows and how the cluster names its links.
public struct TimelineSelection: Sendable {
    /// GPU indices to show (nil: all); other actors' lanes are always shown.
    public var gpus: [Int]?
    /// Also a lane per link of each shown GPU (NVLink and IB, out and in), and switch uplinks.
    public var includesLinks = false
    /// GPUs per node, to tell which NVSwitch port and leaf port lead to which GPU.
    public var gpusPerNode = 8
    /// The full names (`owner.port`) of the cluster's links, sorted (binary-searched).
    public var linkNames: [String] = []

    public init(gpus: [Int]? = nil, includesLinks: Bool = false, gpusPerNode: Int = 8, linkNames: [String] = []) {
        self.gpus = gpus
        self.includesLinks = includesLinks
        self.gpusPerNode = gpusPerNode
        self.linkNames = linkNames.sorted()
    }

    func isLink(actor: String, lane: String) -> Bool {
        let name = actor + "." + lane
        var low = 0
        var high = linkNames.count
        while low < high {
            let middle = (low + high) / 2
            if linkNames[middle] < name { low = middle + 1 } else { high = middle }
        }
        return low < linkNames.count && linkNames[low] == name
    }
}

extension Timeline {
    /// The timeline of everything `trace` stored, laid out per `selection`, from 0 to the later of the last
    /// span's end and `endNs`.
    public init(trace: TraceRecorder, selection: TimelineSelection, endNs: Int64 = 0) {
        var layout = TimelineLayout(selection: selection)
        let trackNames = trace.trackNames
        let laneOfTrack = trackNames.map { layout.lane(actor: $0.actor, lane: $0.lane) }
        let laneNames = trackNames.map { [$0.lane, $0.actor] }
        var lanes = layout.orderedLanes()
        let position = layout.displayPositions()
        for (trackIndex, slot) in laneOfTrack.enumerated() {
            if let slot { lanes[position[slot]].tracks.append(trackIndex) }
        }
        var lastNs = endNs
        var recorded = 0
        // Per track, the category of each span name without a `category`/`kind` argument (names repeat).
        var categories = [[String: SpanCategory]](repeating: [:], count: trackNames.count)  // lookup only, never iterated
        trace.forEachRecord { record in
            guard record.isSpan, let slot = laneOfTrack[Int(record.track.rawValue)] else { return }
            let track = Int(record.track.rawValue)
            lanes[position[slot]].spans.append(
                Self.span(record, lane: laneNames[track], in: trace, cache: &categories[track]))
            lastNs = max(lastNs, record.endNs)
            recorded += 1
        }
        for index in lanes.indices {
            lanes[index].spans.sort {
                ($0.startNs, $0.endNs, $0.recordIndex ?? 0) < ($1.startNs, $1.endNs, $1.recordIndex ?? 0)
            }
        }
        self.init(
            lanes: lanes.filter { !$0.spans.isEmpty || $0.kind != .other }, startNs: 0, endNs: lastNs,
            recordedSpanCount: recorded)
    }

    private static func span(
        _ record: TraceRecordView, lane: [String], in trace: TraceRecorder, cache: inout [String: SpanCategory]
    ) -> TimelineSpan {
        var span = TimelineSpan(
            name: record.name, startNs: record.startNs, endNs: record.endNs, category: .kernel,
            recordIndex: record.index, busyNs: record.endNs - record.startNs)
        var override: String?
        var kind: String?
        trace.forEachArgument(ofRecord: record.index) { key, value in
            switch (key, value) {
            case ("bytes", .int(let bytes)): span.bytes = bytes
            case ("flops", .double(let flops)): span.flops = flops
            case ("flops", .int(let flops)): span.flops = Double(flops)
            case ("mb", .int(let microBatch)), ("microbatch", .int(let microBatch)): span.microBatch = microBatch
            case ("category", .string(let name)): override = name
            case ("kind", .string(let name)): kind = name
            default: break
            }
        }
        if override == nil, kind == nil {
            if let known = cache[record.name] {
                span.category = known
            } else {
                span.category = SpanCategory.of(name: record.name, fallbacks: lane)
                cache[record.name] = span.category
            }
            return span
        }
        span.category = SpanCategory.of(
            name: record.name, override: override, fallbacks: kind.map { [$0] + lane } ?? lane)
        return span
    }
}
