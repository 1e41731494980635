import Foundation
import SimCore
import Testing

@testable import Scenario

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("HTML timeline", .serialized)
struct TimelineHTMLTests {
    private func session(_ lines: [String]) -> ScenarioSession {
        let session = ScenarioSession(output: { _ in })
        for line in lines { #expect(session.execute(line) == .done, "\(line)") }
        return session
    }

    private func page(_ session: ScenarioSession, gpus: [Int]? = nil, links: Bool = false, maxSpans: Int = 1_000_000)
        -> String
    {
        let names = session.traceCommands?.clusterCommands.cluster?.links.map(\.name) ?? []
        let selection = TimelineSelection(gpus: gpus, includesLinks: links, gpusPerNode: 8, linkNames: names)
        return session.timelineHTML(selection: selection, maxSpans: maxSpans, title: "test").render()
    }

    /// The page's inline SVG, parsed as XML (fails the test when it is not well-formed).
    private func svgDocument(_ html: String) throws -> XMLDocument {
        let start = try #require(html.range(of: "<svg "))
        let end = try #require(html.range(of: "</svg>", options: .backwards))
        return try XMLDocument(xmlString: String(html[start.lowerBound..<end.upperBound]), options: [])
    }

    /// Each lane group's name and its rectangles as (x, width, title).
    private func lanes(_ document: XMLDocument) throws -> [(
        name: String, rects: [(x: Int64, width: Int64, title: String)]
    )] {
        let root = try #require(document.rootElement())
        let unitNs = try #require(Decimal(string: Self.attribute("data-unit-ns", of: root) ?? ""))
        func nanoseconds(_ text: String?) -> Int64 {
            guard let text, let units = Decimal(string: text) else { return -1 }
            return NSDecimalNumber(decimal: units * unitNs).int64Value
        }
        let nodes = try document.nodes(forXPath: "//*[local-name()='g'][@class='lane']")
        var out: [(name: String, rects: [(x: Int64, width: Int64, title: String)])] = []
        for case let group as XMLElement in nodes {
            var rects: [(x: Int64, width: Int64, title: String)] = []
            for case let rect as XMLElement in group.children ?? [] where rect.name == "rect" {
                let x = nanoseconds(Self.attribute("x", of: rect))
                let width = nanoseconds(Self.attribute("width", of: rect))
                rects.append((x, width, rect.stringValue ?? ""))
            }
            out.append((Self.attribute("data-name", of: group) ?? "", rects))
        }
        return out
    }

    /// An attribute's value, matched by local name (FoundationXML's `attribute(forName:)` misses them inside a
    /// default namespace).
    static func attribute(_ name: String, of element: XMLElement) -> String? {
        (element.attributes ?? []).first { ($0.localName ?? $0.name) == name }?.stringValue
    }

    @Test("the SVG is well-formed XML and its lanes and spans match the trace (count, order, times)")
    func lanesMatchTrace() throws {
        let session = session([
            "send from=gpu0 to=gpu1 size=4MiB", "kernel gpu=1 flops=2e12 bytes=1GiB",
            "kernel gpu=1 flops=1e12 bytes=1GiB", "collective all-gather size=8MiB group=gpu2,gpu3", "run",
        ])
        let found = try lanes(try svgDocument(page(session)))
        func html(_ session: ScenarioSession) -> String { page(session) }
        let events = session.simulation.trace.events.filter { $0.kind == .span }
        var expected: [(String, [TraceEvent])] = []
        // Actors other than GPUs and links (the per-collective spans on `collectives`) come first.
        for track in session.simulation.trace.trackNames where track.actor == "collectives" {
            let spans = events.filter { $0.actor == "collectives" && $0.lane == track.lane }
            expected.append(("collectives " + track.lane, spans))
        }
        for gpu in 0..<8 {
            expected.append(
                ("gpu\(gpu) compute SMs", events.filter { $0.actor == "gpu\(gpu)" && $0.lane == "compute" }))
            let comm = events.enumerated().filter {
                $0.element.actor == "gpu\(gpu)" && ($0.element.lane == "comm" || $0.element.lane == "comm.out")
            }
            let sorted = comm.sorted {
                ($0.element.start, $0.element.end, $0.offset) < ($1.element.start, $1.element.end, $1.offset)
            }
            expected.append(("gpu\(gpu) comm SMs", sorted.map(\.element)))
        }
        #expect(found.map(\.name) == expected.map(\.0))
        for (lane, want) in zip(found, expected) {
            #expect(lane.rects.count == want.1.count, "\(lane.name)")
            for (rect, event) in zip(lane.rects, want.1) {
                #expect(rect.x == event.start.nanosecondsSinceStart, "\(lane.name)")
                #expect(rect.width == event.duration.nanoseconds, "\(lane.name)")
                #expect(rect.title.hasPrefix(event.name + " ["), "\(lane.name): \(rect.title)")
            }
        }
        let gpu1 = try #require(found.first { $0.name == "gpu1 compute SMs" })
        #expect(gpu1.rects.count == 2 && gpu1.rects.allSatisfy { $0.title.contains("TFLOP") })
        let collective = try #require(found.first { $0.name.hasPrefix("collectives ") })
        #expect(collective.rects.count == 1 && collective.rects[0].title.hasPrefix("all-gather [collective]"))
        #expect(found.reduce(0) { $0 + $1.rects.count } > 20)
        #expect(html(session).contains("data-unit-ns=\"10\""))
    }

    @Test("the page names no external resource: no URL but the SVG namespace, no src, href, url() or @import")
    func selfContained() throws {
        let html = page(session(["collective all-reduce size=4MiB", "run"]), links: true)
        let urls = html.components(separatedBy: "://").count - 1
        #expect(urls == html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1)
        for banned in ["src=", "href=", "url(", "@import", "<link", "<iframe"] {
            #expect(!html.contains(banned), "\(banned)")
        }
        #expect(html.contains("<script>") && html.contains("addEventListener('wheel'"))
    }

    @Test("gpus= and links= choose the lanes: a GPU's links follow its SM lanes")
    func laneSelection() throws {
        let session = session(["cluster preset=2-nodes", "send from=gpu1 to=gpu9 size=4MiB", "run"])
        let names = try lanes(try svgDocument(page(session, gpus: [1, 9], links: true))).map(\.name)
        #expect(
            names == [
                "gpu1 compute SMs", "gpu1 comm SMs", "gpu1 NVLink out", "gpu1 NVLink in", "gpu1 IB out", "gpu1 IB in",
                "gpu9 compute SMs", "gpu9 comm SMs", "gpu9 NVLink out", "gpu9 NVLink in", "gpu9 IB out", "gpu9 IB in",
            ])
        let rects = try lanes(try svgDocument(page(session, gpus: [1, 9], links: true)))
        #expect(rects[4].rects.count > 0 && rects[11].rects.count > 0)
        #expect(rects[2].rects.isEmpty)
    }

    @Test("a legend swatch for each category drawn, and the hover text carries bytes")
    func legendAndTooltips() {
        let html = page(session(["send from=gpu0 to=gpu1 size=4MiB", "kernel gpu=0 flops=1e12 bytes=1GiB", "run"]))
        #expect(html.contains("link chunk / push") && html.contains("other kernel"))
        #expect(!html.contains(SpanCategory.forward.label))
        #expect(html.contains("chunk [transfer] · 0 → "))
        #expect(html.contains(" · 512 KiB</title>"))
    }

    @Test("pipeline and MoE spans on any lane of a GPU get their own row, their colour and their micro-batch")
    func categoriesAndMicroBatches() throws {
        let trace = TraceRecorder()
        let compute = trace.track(actor: "gpu0", lane: "compute")
        let stage = trace.track(actor: "gpu0", lane: "pipeline")
        let names: [(String, SpanCategory)] = [
            ("F mb3", .forward), ("B mb3", .backward), ("W mb3", .weight), ("F&B mb4/mb1", .overlapped),
            ("dispatch l2", .dispatch), ("mlp l2", .mlp), ("combine l2", .combine), ("attention l2", .attention),
        ]
        for (index, entry) in names.enumerated() {
            let start = SimInstant(nanosecondsSinceStart: Int64(index) * 1_000)
            let end = SimInstant(nanosecondsSinceStart: Int64(index) * 1_000 + 900)
            trace.span(index < 4 ? stage : compute, entry.0, start: start, end: end, args: ["mb": .int(3)])
        }
        let timeline = Timeline(trace: trace, selection: TimelineSelection())
        #expect(timeline.lanes.map(\.label) == ["compute SMs", "pipeline"])
        let html = TimelineHTML(timeline: timeline, title: "t").render()
        let found = try lanes(try svgDocument(html))
        #expect(found.map(\.rects.count) == [4, 4])
        for (name, category) in names {
            #expect(html.contains("class=\"\(category.cssClass)\" data-mb=\"3\"><title>\(TimelineHTML.escape(name)) ["))
            #expect(html.contains(TimelineHTML.escape(category.label)))
        }
        #expect(html.contains("micro-batch 3"))
    }

    @Test("trace html writes the page, escapes the title, and names a path it cannot write")
    func traceHTMLCommand() throws {
        let lines = Lines()
        let session = ScenarioSession(output: lines.append)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-\(UUID()).html").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(session.execute("send from=gpu0 to=gpu1 size=1MiB") == .done)
        #expect(session.execute("run") == .done)
        #expect(session.execute(#"trace html \#(path) gpus=0-1 title="<a & b>""#) == .done)
        #expect(lines.lines.last == "wrote a timeline of 2 spans to \(path) (open it in any browser)")
        let page = try String(contentsOfFile: path, encoding: .utf8)
        #expect(page.contains("<h1>&lt;a &amp; b&gt;</h1>") && page.contains("GPUs shown: 2 of 8"))
        _ = try svgDocument(page)
        guard case .failed(let error) = session.execute("trace html /nonexistent-moesim-dir/t.html") else {
            Issue.record("writing into a missing directory should fail")
            return
        }
        #expect(error.message.hasPrefix("cannot write '/nonexistent-moesim-dir/t.html': "))
    }

    @Test("a phantom all-to-all on 8 nodes stays under its bound once aggregated, and merging keeps busy time")
    func largeRunBound() throws {
        let session = session([
            "cluster nodes=8 preset=2-nodes", "collective all-to-all size=32MiB algo=hierarchical", "run",
        ])
        let names = session.traceCommands?.clusterCommands.cluster?.links.map(\.name) ?? []
        let selection = TimelineSelection(includesLinks: true, gpusPerNode: 8, linkNames: names)
        let full = Timeline(trace: session.simulation.trace, selection: selection)
        let budget = 4_000
        let merged = full.aggregated(maxSpans: budget)
        #expect(full.spanCount > 3 * budget)
        #expect(merged.spanCount <= budget + merged.lanes.count)
        for (before, after) in zip(full.lanes, merged.lanes) {
            #expect(before.spans.reduce(0) { $0 + $1.busyNs } == after.spans.reduce(0) { $0 + $1.busyNs })
            #expect(before.spans.count == after.spans.reduce(0) { $0 + $1.mergedCount })
        }
        let html = TimelineHTML(timeline: merged, title: "big").render()
        // About 130 bytes per rectangle: 4 k rectangles must stay under 700 kB, as 120 k stay under 20 MB.
        #expect(html.utf8.count < 700_000, "\(html.utf8.count) bytes")
        _ = try svgDocument(html)
    }

    @Test("a 2048-GPU step of 1.57 M tiny spans merges and renders under 20 MB with the default budget")
    func dsv3SizeBound() {
        let trace = TraceRecorder()
        let (kernelsPerGPU, chunksPerGPU) = (256, 512)
        for gpu in 0..<2048 {
            let compute = trace.track(actor: "gpu\(gpu)", lane: "compute")
            let comm = trace.track(actor: "gpu\(gpu)", lane: "comm.out")
            let skew = Int64(gpu % 7)
            for step in 0..<kernelsPerGPU {
                let t = Int64(step) * 1_000 + skew
                trace.span(
                    compute, step % 2 == 0 ? "F" : "B", start: SimInstant(nanosecondsSinceStart: t),
                    end: SimInstant(nanosecondsSinceStart: t + 900))
            }
            for chunk in 0..<chunksPerGPU {
                let t = Int64(chunk) * 500 + skew
                trace.span(
                    comm, "chunk", start: SimInstant(nanosecondsSinceStart: t),
                    end: SimInstant(nanosecondsSinceStart: t + 300))
            }
        }
        let timeline = Timeline(trace: trace, selection: TimelineSelection(gpusPerNode: 8))
        #expect(timeline.lanes.count == 4096 && timeline.recordedSpanCount == 2048 * (kernelsPerGPU + chunksPerGPU))
        #expect(timeline.recordedSpanCount >= 1_500_000)
        let merged = timeline.aggregated(maxSpans: TraceCommands.defaultMaxSpans)
        // Every lane is over its share (about 29 rectangles), so every lane merged.
        #expect(merged.lanes.allSatisfy { lane in lane.spans.contains { $0.mergedCount > 1 } })
        #expect(
            merged.lanes.reduce(0) { $0 + $1.spans.reduce(0) { $0 + $1.mergedCount } } == timeline.recordedSpanCount)
        let bytes = TimelineHTML(timeline: merged, title: "dsv3").render().utf8.count
        #expect(bytes < 20_000_000, "\(bytes) bytes")
        #expect(merged.spanCount <= TraceCommands.defaultMaxSpans + merged.lanes.count)
    }
}

private final class Lines {
    var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
}
