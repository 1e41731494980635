import Foundation
import Hardware
import SimCore

extension ScenarioSession {
    /// Writes the Chrome/Perfetto trace of the current world: processes named and sorted by node and GPU,
    /// flows from each send to its delivery, link utilisation and HBM counters up to now.
    public func writeChromeTrace(toPath path: String) throws {
        var options = ChromeTraceOptions()
        options.endNs = simulation.now.nanosecondsSinceStart
        if let spec = traceCommands?.clusterCommands.spec {
            options.processLabel = { Self.traceProcess(actor: $0, spec: spec) }
        }
        try simulation.trace.writeChromeTrace(toPath: path, options: options)
    }

    /// Writes the HTML timeline of the current world (all GPUs, no link lanes); returns the rectangles drawn.
    @discardableResult
    public func writeTimelineHTML(toPath path: String) throws -> Int {
        let spec = traceCommands?.clusterCommands.spec ?? ClusterSpec()
        let links = traceCommands?.clusterCommands.cluster?.links.map(\.name) ?? []
        return try writeTimelineHTML(
            toPath: path, selection: TimelineSelection(gpusPerNode: spec.gpusPerNode, linkNames: links),
            maxSpans: TraceCommands.defaultMaxSpans, title: nil)
    }

    /// Writes the HTML timeline of `selection`, at most about `maxSpans` rectangles; returns how many it drew.
    func writeTimelineHTML(toPath path: String, selection: TimelineSelection, maxSpans: Int, title: String?) throws
        -> Int
    {
        let html = timelineHTML(selection: selection, maxSpans: maxSpans, title: title)
        try html.render().write(toFile: path, atomically: true, encoding: .utf8)
        return html.timeline.spanCount
    }

    /// The HTML timeline of the current world.
    func timelineHTML(selection: TimelineSelection, maxSpans: Int, title: String?) -> TimelineHTML {
        let trace = simulation.trace
        let full = Timeline(trace: trace, selection: selection, endNs: simulation.now.nanosecondsSinceStart)
        let timeline = full.aggregated(maxSpans: maxSpans)
        let spec = traceCommands?.clusterCommands.spec ?? ClusterSpec()
        var notes = [
            "\(spec.nodeCount) node(s) × \(spec.gpusPerNode) \(spec.gpu.name); seed \(seed); virtual time "
                + "\(TimeAxis.format(full.startNs)) – \(TimeAxis.format(full.endNs)); trace hash "
                + String(trace.hash, radix: 16),
            "\(full.lanes.count) lanes, \(full.recordedSpanCount) recorded spans"
                + (timeline.spanCount < full.spanCount ? ", drawn as \(timeline.spanCount) (tiny spans merged)" : ""),
        ]
        if let gpus = selection.gpus, gpus.count < spec.gpuCount {
            notes.append("GPUs shown: \(gpus.count) of \(spec.gpuCount)")
        }
        return TimelineHTML(timeline: timeline, title: title ?? "moesim timeline", notes: notes)
    }

    /// The Chrome process name and sort key of a hardware actor: per node its GPUs (each followed by its NIC),
    /// then its NVSwitch; then the leaf and spine switches. Other actors keep their name and come first.
    static func traceProcess(actor: String, spec: ClusterSpec) -> (name: String, sortIndex: Int)? {
        let perNode = max(1, spec.gpusPerNode)
        let nodeStride = 2 * perNode + 1
        let base = 1_000_000
        if let gpu = TimelineLayout.gpuIndex(actor) {
            let node = gpu / perNode
            let isNIC = actor.hasSuffix(".nic")
            let name = "node\(node) gpu\(gpu)" + (isNIC ? " NIC" : "")
            return (name, base + node * nodeStride + 2 * (gpu % perNode) + (isNIC ? 1 : 0))
        }
        let digits = { (text: Substring) in Int(text.prefix { $0.isNumber }) }
        if actor.hasPrefix("node"), actor.hasSuffix(".nvswitch"), let node = digits(actor.dropFirst(4)) {
            return ("node\(node) NVSwitch", base + node * nodeStride + 2 * perNode)
        }
        let fabricBase = base + spec.nodeCount * nodeStride
        if actor.hasPrefix("leaf"), let rail = digits(actor.dropFirst(4)) {
            return ("leaf\(rail) (rail \(rail))", fabricBase + rail)
        }
        if actor.hasPrefix("spine"), let spine = digits(actor.dropFirst(5)) {
            return ("spine\(spine)", fabricBase + perNode + spine)
        }
        return nil
    }
}
