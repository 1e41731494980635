/// What `chromeTraceJSON(options:)` adds to the recorded spans and instants.
public struct ChromeTraceOptions {
    /// The displayed name and sort key of an actor's Chrome process; nil keeps the actor's name and its order
    /// of first appearance.
    public var processLabel: ((String) -> (name: String, sortIndex: Int)?)?
    /// Flow arrows (Chrome flow v2) from each send to a `deliver` slice on the receiver's `deliveries` lane.
    public var includesFlows = true
    /// Counter samples recorded with `counter(…)` (HBM bytes per kind, …).
    public var includesCounters = true
    /// Tracks with spans of this name (link chunks) get a `utilisation` counter: their busy fraction per bin.
    public var utilisationSpanName: String? = "chunk"
    /// How many equal bins the utilisation counters cut `0..<endNs` into.
    public var counterBins = 200
    /// Where the utilisation counters end (the session's `now`); nil: the last event's end.
    public var endNs: Int64?

    /// Flows, counters and chunk utilisation on; processes keep their actor names.
    public init() {}
}

/// Accumulates Chrome trace events as one JSON document.
struct ChromeEventWriter {
    private var out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
    private var first = true

    mutating func emit(_ line: String) {
        if !first { out += ",\n" }
        first = false
        out += line
    }

    mutating func finish() -> String { out + "\n]}\n" }
}

extension TraceRecorder {
    /// The bin boundaries of the utilisation counters: `bins` + 1 instants from 0 to `endNs`.
    public static func counterBinEdges(endNs: Int64, bins: Int) -> [Int64] {
        let count = max(1, min(bins, Int(max(1, endNs))))
        return (0...count).map { Int64((Double(endNs) * Double($0) / Double(count)).rounded(.down)) }
    }

    /// Per stored event, the flow id (1-based) it starts, 0 for none.
    func flowStarts() -> [Int32] {
        var starts = [Int32](repeating: 0, count: records.count)
        for (index, flow) in annotations.flows.enumerated() where records.indices.contains(flow.sendRecord) {
            starts[flow.sendRecord] = Int32(index + 1)
        }
        return starts
    }

    /// Flow ends: for each flow, a zero-length `deliver` slice on the receiver's synthetic `deliveries` lane
    /// (tid after every real track) with `bind_id` + `flow_in`; the start is the send event (see `eventJSON`).
    func emitFlows(pids: [Int], into writer: inout ChromeEventWriter) {
        var hasDeliveryLane = [Bool](repeating: false, count: strings.count)
        for (index, flow) in annotations.flows.enumerated() {
            let source = tracks[Int(flow.sourceTrack.rawValue)]
            let destinationActor = Int(tracks[Int(flow.destinationTrack.rawValue)].actor)
            let destinationPid = pids[destinationActor]
            let deliveryTid = tracks.count + destinationPid
            if !hasDeliveryLane[destinationActor] {
                hasDeliveryLane[destinationActor] = true
                writer.emit(metadata("thread_name", pid: destinationPid, tid: deliveryTid, name: "deliveries"))
            }
            writer.emit(
                "{\"name\":\"deliver\",\"cat\":\"message\",\"ph\":\"X\",\"dur\":0.000,\"pid\":\(destinationPid),"
                    + "\"tid\":\(deliveryTid),\"ts\":\(microseconds(flow.deliveredNs)),\"bind_id\":\(index + 1),"
                    + "\"flow_in\":true,\"args\":{\"bytes\":\(flow.bytes),\"tag\":\(flow.tag),"
                    + "\"from\":\(jsonString(strings[Int(source.actor)]))}}")
        }
    }

    /// For every track carrying spans named `spanName`: a counter `<lane>` with series `utilisation` (Perfetto
    /// shows `<lane> utilisation`) on its actor's process,
    /// one sample per bin (busy time in the bin / bin width), closed by a zero at `endNs`.
    func emitUtilisationCounters(
        spanName: String, bins: Int, endNs: Int64, pids: [Int], into writer: inout ChromeEventWriter
    ) {
        guard endNs > 0, let nameIndex = strings.firstIndex(of: spanName) else { return }
        let edges = Self.counterBinEdges(endNs: endNs, bins: bins)
        var busy = [[Int64]](repeating: [], count: tracks.count)
        for record in records where record.isSpan && record.name == Int32(nameIndex) {
            addBusy(&busy[Int(record.track)], edges: edges, startNs: record.startNs, endNs: record.endNs)
        }
        for (trackIndex, perBin) in busy.enumerated() where !perBin.isEmpty {
            let track = tracks[trackIndex]
            let name = jsonString(strings[Int(track.lane)])
            let prefix = "{\"name\":\(name),\"ph\":\"C\",\"pid\":\(pids[Int(track.actor)]),\"ts\":"
            var previous = -1.0
            for bin in 0..<(edges.count - 1) {
                let value = Double(perBin[bin]) / Double(edges[bin + 1] - edges[bin])
                if value == previous { continue }
                previous = value
                writer.emit(prefix + microseconds(edges[bin]) + ",\"args\":{\"utilisation\":\(value)}}")
            }
            writer.emit(prefix + microseconds(endNs) + ",\"args\":{\"utilisation\":0.0}}")
        }
    }

    /// Adds the part of `startNs..<endNs` that falls in each bin to `perBin` (created on first use).
    private func addBusy(_ perBin: inout [Int64], edges: [Int64], startNs: Int64, endNs: Int64) {
        if perBin.isEmpty { perBin = [Int64](repeating: 0, count: edges.count - 1) }
        guard endNs > startNs else { return }
        var low = 0
        var high = edges.count - 1
        while low < high {
            let middle = (low + high) / 2
            if edges[middle + 1] <= startNs { low = middle + 1 } else { high = middle }
        }
        var bin = low
        while bin < edges.count - 1, edges[bin] < endNs {
            perBin[bin] += max(0, min(endNs, edges[bin + 1]) - max(startNs, edges[bin]))
            bin += 1
        }
    }

    /// Counter samples: each sample re-emits every series of its counter on its actor, so a counter with several
    /// series (HBM kinds) stays one stacked track in chrome://tracing and one track per series in Perfetto.
    func emitCounterSamples(pids: [Int], into writer: inout ChromeEventWriter) {
        var series: [[(counter: String, names: [String], readings: [Double])]] = Array(
            repeating: [], count: strings.count)
        for sample in annotations.counters {
            let actor = Int(tracks[Int(sample.track.rawValue)].actor)
            var counterIndex = series[actor].firstIndex { $0.counter == sample.counter }
            if counterIndex == nil {
                series[actor].append((sample.counter, [], []))
                counterIndex = series[actor].count - 1
            }
            guard let counterIndex else { continue }
            var entry = series[actor][counterIndex]
            if let slot = entry.names.firstIndex(of: sample.series) {
                entry.readings[slot] = sample.value
            } else {
                entry.names.append(sample.series)
                entry.readings.append(sample.value)
            }
            series[actor][counterIndex] = entry
            let args = zip(entry.names, entry.readings).map { "\(jsonString($0.0)):\($0.1)" }.joined(separator: ",")
            writer.emit(
                "{\"name\":\(jsonString(sample.counter)),\"ph\":\"C\",\"pid\":\(pids[actor]),"
                    + "\"ts\":\(microseconds(sample.atNs)),\"args\":{\(args)}}")
        }
    }
}
