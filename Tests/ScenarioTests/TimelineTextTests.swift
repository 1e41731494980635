import Foundation
import SimCore
import Testing

@testable import Scenario

@Suite("Timeline: categories, merging, terminal view")
struct TimelineTextTests {
    @Test(
        "span names map to categories by the documented convention",
        arguments: [
            ("F", SpanCategory.forward), ("F12 mb3", .forward), ("forward.layer3", .forward), ("B", .backward),
            ("B7", .backward), ("W", .weight), ("W3:expert", .weight), ("F&B 4/5", .overlapped), ("FB", .overlapped),
            ("attention.l2", .attention), ("MLA", .attention), ("dispatch", .dispatch), ("mlp.expert7", .mlp),
            ("experts", .mlp), ("combine", .combine), ("all-reduce", .collective),
            ("reduce-scatter grads", .collective),
            ("broadcast", .collective), ("AdamW", .optimizer), ("chunk", .transfer), ("idle", .idle), ("bubble", .idle),
            ("kernel", .kernel), ("gemm", .kernel), ("Fx", .kernel), ("bogus", .kernel),
        ])
    func categories(name: String, category: SpanCategory) {
        #expect(SpanCategory.of(name: name) == category)
    }

    @Test("a category argument overrides the name")
    func categoryOverride() {
        #expect(SpanCategory.of(name: "kernel", override: "dispatch") == .dispatch)
        #expect(SpanCategory.of(name: "F", override: "f&b") == .overlapped)
        #expect(SpanCategory.of(name: "F", override: "nonsense") == .forward)
        #expect(SpanCategory.of(name: "grads", fallbacks: ["all-reduce", "grads", "collectives"]) == .collective)
        #expect(SpanCategory.of(name: "ring step 3", fallbacks: ["ring", "collectives"]) == .collective)
        #expect(SpanCategory.of(name: "step", fallbacks: ["optimizer"]) == .optimizer)
        #expect(SpanCategory.of(name: "F2", fallbacks: ["collectives"]) == .forward)
        #expect(SpanCategory.of(name: "kernel", fallbacks: ["compute", "gpu0"]) == .kernel)
        #expect(SpanCategory.of(name: "experts") == .mlp && SpanCategory.of(name: "combines") == .combine)
    }

    private func lane(_ spans: [(Int64, Int64)]) -> TimelineLane {
        var lane = TimelineLane(group: "gpu0", label: "compute SMs", kind: .compute)
        for (start, end) in spans {
            let span = TimelineSpan(
                name: "F", startNs: start, endNs: end, category: .forward, recordIndex: 0, busyNs: end - start)
            lane.spans.append(span)
        }
        return lane
    }

    @Test("merging keeps lanes within budget untouched and cuts long lanes to the budget")
    func merging() {
        let short = lane([(0, 10), (20, 30)])
        var ranges: [(Int64, Int64)] = []
        for index in 0..<1_000 { ranges.append((Int64(index) * 100, Int64(index) * 100 + 40)) }
        ranges.append((200_000, 300_000))
        let long = lane(ranges)
        let timeline = Timeline(lanes: [short, long], startNs: 0, endNs: 300_000, recordedSpanCount: 1_003)
        let merged = timeline.aggregated(maxSpansPerLane: 16)
        #expect(merged.lanes[0].spans == short.spans)
        #expect(merged.lanes[1].spans.count <= 16)
        #expect(merged.lanes[1].spans.last == long.spans.last)
        let busy = merged.lanes[1].spans.reduce(Int64(0)) { $0 + $1.busyNs }
        #expect(busy == 1_000 * 40 + 100_000)
        #expect(merged.lanes[1].spans.first?.mergedCount ?? 0 > 1 && merged.lanes[1].spans.first?.recordIndex == nil)
    }

    @Test("the terminal timeline shows compute and comm SMs per GPU from what ran")
    func terminalTimeline() {
        let lines = LineBuffer()
        let session = ScenarioSession(output: lines.append)
        // 1e12 FLOPs on 112 SMs of an H800 and a 4 MiB message gpu0 -> gpu1.
        for line in ["kernel gpu=0 flops=1e14 bytes=1MiB", "send from=gpu1 to=gpu0 size=4MiB", "run"] {
            #expect(session.execute(line) == .done)
        }
        lines.lines.removeAll()
        #expect(session.execute("show timeline gpus=0-1 width=20") == .done)
        let kernelEnd = session.simulation.trace.events.first { $0.lane == "compute" }?.end.nanosecondsSinceStart ?? 0
        #expect(lines.lines.count == 6)
        #expect(lines.lines[0].hasSuffix(TimeAxis.format(kernelEnd)))
        #expect(lines.lines[1] == "gpu0 compute SMs|kkkkkkkkkkkkkkkkkkkk|")
        #expect(lines.lines[2] == "     comm SMs   |....................|")
        #expect(lines.lines[4].hasPrefix("     comm SMs   |=") && lines.lines[4].hasSuffix(".|"))
        #expect(lines.lines[5] == "legend: = transfer, k kernel, . idle")
    }
}

private final class LineBuffer {
    var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
}
