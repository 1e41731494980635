import Foundation
import Hardware
import SimCore

/// `trace export|html`, `show timeline` and the `trace.*` metrics: the recorded spans as a Chrome/Perfetto
/// trace, as a self-contained HTML timeline, or as text in the terminal.
final class TraceCommands {
    unowned let session: ScenarioSession
    unowned let clusterCommands: ClusterCommands
    static let htmlKeys = ["gpus", "links", "max-spans", "title"]
    static let timelineKeys = ["gpus", "links", "width", "from", "to"]
    /// The default rectangle budget of an HTML timeline (about 15 MB of page).
    static let defaultMaxSpans = 120_000

    init(session: ScenarioSession, clusterCommands: ClusterCommands) {
        self.session = session
        self.clusterCommands = clusterCommands
        var trace = Command(
            "trace",
            synopsis: "trace export FILE.json | trace html FILE.html [gpus=0-7] [links=on] [max-spans=N] [title=TEXT]",
            summary: "write the Chrome/Perfetto trace, or a self-contained HTML timeline of the run",
            details: [
                "export: spans, instants, flow arrows send→delivery, link utilisation and HBM counters",
                "html:   a lane per GPU for compute and comm SMs (links=on adds its NVLink/IB links),",
                "        spans coloured by kind (F, B, W, F&B, attention, dispatch, MLP, combine, …);",
                "        wheel zooms, drag pans, hover shows details; no network needed to open it",
                "        gpus=0-7,12 (or gpu0-7) chooses lanes; lanes over budget merge tiny spans",
                "        (max-spans=\(Self.defaultMaxSpans)); title=\"TEXT\" heads the page",
            ],
            completionWords: ["export", "html"]
        ) { [unowned self] line in try performTrace(line) }
        trace.subcommandKeys = [("export", []), ("html", Self.htmlKeys)]
        session.register(trace)
        session.registerValues(command: "trace", key: "links") { ["on", "off"] }
        session.registerValues(command: "show", key: "links") { ["on", "off"] }
        session.registerShow(
            Command(
                "timeline", synopsis: "show timeline [gpus=0-7] [width=N]",
                summary: "what ran, per GPU: compute vs comm SMs (also links=on from=T to=T)",
                argumentKeys: Self.timelineKeys
            ) { [unowned self] line in try showTimeline(line) })
        session.register(
            Metric("trace.spans", .number, "spans recorded so far") { [unowned self] _ in
                var count = 0
                self.session.simulation.trace.forEachRecord { if $0.isSpan { count += 1 } }
                return Double(count)
            })
        session.register(
            Metric("trace.flows", .number, "delivered messages with a send→delivery flow in the trace") {
                [unowned self] _ in Double(self.session.simulation.trace.flows.count)
            })
    }

    private func performTrace(_ line: CommandLine) throws(ScenarioError) {
        guard let mode = line.positionals.first, mode.text == "export" || mode.text == "html" else {
            throw line.error(
                "usage: trace export FILE.json | trace html FILE.html", at: line.positionals.first ?? line.command)
        }
        try requireStoredEvents(line)
        guard line.positionals.count >= 2 else {
            throw line.error("missing file name after 'trace \(mode.text)'", at: mode)
        }
        let path = line.positionals[1]
        if mode.text == "export" {
            try line.check(allowedKeys: [], maxPositionals: 2)
            try write(at: path, in: line) { try session.writeChromeTrace(toPath: path.text) }
            session.output(
                "wrote \(session.simulation.trace.eventCount) trace events and "
                    + "\(session.simulation.trace.flows.count) flows to \(path.text) (open in ui.perfetto.dev)")
            return
        }
        try line.check(allowedKeys: Self.htmlKeys, maxPositionals: 2)
        let selection = try selection(from: line)
        let maxSpans = try line.integer("max-spans", in: 100...10_000_000, default: Self.defaultMaxSpans)
        let title = line.option("title")?.text
        var drawn = 0
        try write(at: path, in: line) {
            drawn = try session.writeTimelineHTML(
                toPath: path.text, selection: selection, maxSpans: maxSpans, title: title)
        }
        session.output("wrote a timeline of \(drawn) spans to \(path.text) (open it in any browser)")
    }

    private func write(at token: Token, in line: CommandLine, _ body: () throws -> Void) throws(ScenarioError) {
        if let problem = FileAccess.writeProblem(token.text) {
            throw line.error("cannot write '\(token.text)': \(problem)", at: token)
        }
        do {
            try body()
        } catch {
            throw line.error("cannot write '\(token.text)': \(error.localizedDescription)", at: token)
        }
    }

    /// An error at the command if the world keeps only the trace's hash (`cluster trace=hash`).
    private func requireStoredEvents(_ line: CommandLine) throws(ScenarioError) {
        guard session.simulation.trace.storesEvents else {
            throw line.error(
                "this world keeps only the trace's hash (cluster … trace=hash); rebuild it with trace=full",
                at: line.command)
        }
    }

    private func showTimeline(_ line: CommandLine) throws(ScenarioError) {
        try line.check(allowedKeys: Self.timelineKeys, maxPositionals: 1)
        try requireStoredEvents(line)
        var selection = try selection(from: line)
        if line.option("gpus") == nil { selection.gpus = Array(0..<min(8, clusterCommands.spec.gpuCount)) }
        let width = try line.integer("width", in: 10...1_000, default: 100)
        let timeline = Timeline(trace: session.simulation.trace, selection: selection)
        let fromNs = try line.option("from").map { token throws(ScenarioError) in try time(token, in: line) } ?? 0
        let toNs =
            try line.option("to").map { token throws(ScenarioError) in try time(token, in: line) }
            ?? max(timeline.endNs, session.simulation.now.nanosecondsSinceStart)
        guard toNs > fromNs else {
            throw line.error("empty window: to= must be after from=", at: line.option("to") ?? line.command)
        }
        guard timeline.recordedSpanCount > 0 else {
            session.output("no spans recorded yet (queue work with send, collective or kernel, then run)")
            return
        }
        for text in timeline.textLines(width: width, fromNs: fromNs, toNs: toNs) { session.output(text) }
    }

    private func time(_ token: Token, in line: CommandLine) throws(ScenarioError) -> Int64 {
        let value = try line.quantity(of: token, .time)
        guard value >= 0, value < 9e18 else { throw line.error("time must be between 0 and 9e18 ns", at: token) }
        return Int64(value.rounded())
    }

    /// The lanes `gpus=` and `links=` choose, with the cluster's link names.
    func selection(from line: CommandLine) throws(ScenarioError) -> TimelineSelection {
        let spec = clusterCommands.spec
        var gpus: [Int]?
        if let token = line.option("gpus"), token.text != "all" {
            gpus = try Self.gpuList(token.text, count: spec.gpuCount).get(or: { line.error($0, at: token) })
        }
        let links = try line.choice("links", ["on", "off"], default: "off") == "on"
        return TimelineSelection(
            gpus: gpus, includesLinks: links, gpusPerNode: spec.gpusPerNode,
            linkNames: clusterCommands.cluster?.links.map(\.name) ?? [])
    }

    /// `0-7,12,16-19` (or `gpu0-7,gpu12`: the items of `group=`) as GPU indices below `count`, or why not.
    static func gpuList(_ text: String, count: Int) -> Result<[Int], GPUListError> {
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let range = IndexRange.parse(part, prefix: "gpu") else {
                return .failure(GPUListError("'\(part)' is not a GPU index or range (e.g. gpus=0-7,12 or gpu0-7)"))
            }
            guard range.upperBound < count else {
                return .failure(GPUListError("GPU \(range.upperBound) is out of range (0…\(count - 1))"))
            }
            out += Array(range)
        }
        return .success(out)
    }

    struct GPUListError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}

extension Result where Failure == TraceCommands.GPUListError {
    /// The value, or the error `wrap` builds from the message.
    func get(or wrap: (String) -> ScenarioError) throws(ScenarioError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw wrap(error.message)
        }
    }
}
