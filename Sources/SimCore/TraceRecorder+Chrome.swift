import Foundation

extension TraceRecorder {
    /// The stored events as Chrome trace event JSON (opens in Perfetto and chrome://tracing): one "process" per
    /// actor, one "thread" per lane, named by metadata events; spans are complete (`X`) events, instants `i`;
    /// `ts` and `dur` in microseconds. `options` adds flow arrows, counter tracks and process names and order.
    public func chromeTraceJSON(options: ChromeTraceOptions = ChromeTraceOptions()) -> String {
        var writer = ChromeEventWriter()
        let pids = actorProcessIDs()
        emitProcessMetadata(pids: pids, options: options, into: &writer)
        let flowOut = options.includesFlows ? flowStarts() : []
        for (index, record) in records.enumerated() {
            let flow = flowOut.isEmpty ? nil : flowOut[index]
            writer.emit(eventJSON(record, pid: pids[Int(tracks[Int(record.track)].actor)], flowOut: flow))
        }
        if options.includesFlows { emitFlows(pids: pids, into: &writer) }
        let endNs = options.endNs ?? lastEventEndNs
        if let spanName = options.utilisationSpanName {
            emitUtilisationCounters(
                spanName: spanName, bins: options.counterBins, endNs: endNs, pids: pids, into: &writer)
        }
        if options.includesCounters { emitCounterSamples(pids: pids, into: &writer) }
        return writer.finish()
    }

    /// Writes `chromeTraceJSON(options:)` to `path`.
    public func writeChromeTrace(toPath path: String, options: ChromeTraceOptions = ChromeTraceOptions()) throws {
        try chromeTraceJSON(options: options).write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func emitProcessMetadata(pids: [Int], options: ChromeTraceOptions, into writer: inout ChromeEventWriter) {
        var named = [Bool](repeating: false, count: strings.count)
        for (trackIndex, track) in tracks.enumerated() {
            let pid = pids[Int(track.actor)]
            if !named[Int(track.actor)] {
                named[Int(track.actor)] = true
                let actor = strings[Int(track.actor)]
                let label = options.processLabel?(actor)
                writer.emit(metadata("process_name", pid: pid, tid: nil, name: label?.name ?? actor))
                let sortIndex = label?.sortIndex ?? pid
                writer.emit(
                    "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(pid),\"args\":{\"sort_index\":\(sortIndex)}}"
                )
            }
            writer.emit(metadata("thread_name", pid: pid, tid: trackIndex + 1, name: strings[Int(track.lane)]))
            writer.emit(
                "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":\(pid),\"tid\":\(trackIndex + 1),"
                    + "\"args\":{\"sort_index\":\(trackIndex + 1)}}")
        }
    }

    /// Chrome pids for actor string indices: 1, 2, … in order of first appearance.
    func actorProcessIDs() -> [Int] {
        var pids = [Int](repeating: 0, count: strings.count)
        var nextPid = 1
        for track in tracks where pids[Int(track.actor)] == 0 {
            pids[Int(track.actor)] = nextPid
            nextPid += 1
        }
        return pids
    }

    func metadata(_ kind: String, pid: Int, tid: Int?, name: String) -> String {
        let tidField = tid.map { ",\"tid\":\($0)" } ?? ""
        return "{\"ph\":\"M\",\"name\":\"\(kind)\",\"pid\":\(pid)\(tidField),\"args\":{\"name\":\(jsonString(name))}}"
    }

    /// One event; an instant that starts a flow becomes a zero-length slice carrying it (Chrome's flow v2:
    /// `bind_id` + `flow_out`), since Perfetto binds flows only to slices.
    private func eventJSON(_ record: Record, pid: Int, flowOut: Int32? = nil) -> String {
        let tid = Int(record.track) + 1
        var line = "{\"name\":\(jsonString(strings[Int(record.name)])),\"pid\":\(pid),\"tid\":\(tid),"
        line += "\"ts\":\(microseconds(record.startNs))"
        if record.isSpan {
            line += ",\"ph\":\"X\",\"dur\":\(microseconds(record.endNs - record.startNs))"
        } else if let flowOut, flowOut > 0 {
            line += ",\"ph\":\"X\",\"dur\":0.000,\"cat\":\"message\",\"bind_id\":\(flowOut),\"flow_out\":true"
        } else {
            line += ",\"ph\":\"i\",\"s\":\"t\""
        }
        if record.argsCount > 0 {
            let args = (0..<Int(record.argsCount)).map { offset -> String in
                let arg = storedArgs[Int(record.argsStart) + offset]
                return "\(jsonString(strings[Int(arg.key)])):\(jsonValue(arg.value))"
            }
            line += ",\"args\":{" + args.joined(separator: ",") + "}"
        }
        return line + "}"
    }

    func jsonValue(_ stored: StoredValue) -> String {
        switch stored {
        case .int(let value): String(value)
        case .double(let value): value.isFinite ? String(value) : jsonString(String(value))
        case .string(let index): jsonString(strings[Int(index)])
        }
    }

    /// Nanoseconds as a microsecond decimal with exactly three fraction digits (no rounding).
    func microseconds(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        let fraction = String(magnitude % 1000)
        return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
