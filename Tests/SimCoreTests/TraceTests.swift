import Foundation
import Testing

@testable import SimCore

@Suite("Trace recorder")
struct TraceTests {
    private func sampleRecorder() -> TraceRecorder {
        let recorder = TraceRecorder()
        let compute = recorder.track(actor: "gpu0", lane: "compute")
        let port = recorder.track(actor: "gpu0", lane: "nvlink \"out\"")
        let other = recorder.track(actor: "gpu1", lane: "compute")
        recorder.span(
            compute, "gemm", start: SimInstant(nanosecondsSinceStart: 1_500),
            end: SimInstant(nanosecondsSinceStart: 4_001), args: ["flops": .int(1 << 30)])
        recorder.span(
            port, "chunk", start: .start, end: SimInstant(nanosecondsSinceStart: 999),
            args: ["bytes": .int(65_536), "to": .string("gpu1")])
        recorder.instant(other, "wake", at: SimInstant(nanosecondsSinceStart: 7))
        return recorder
    }

    @Test("events read back as recorded")
    func readBack() {
        let events = sampleRecorder().events
        #expect(events.count == 3)
        #expect(events[0].name == "gemm" && events[0].duration == .nanoseconds(2_501))
        #expect(events[1].lane == "nvlink \"out\"" && events[1].args.map(\.0) == ["bytes", "to"])
        #expect(events[2].kind == .instant && events[2].actor == "gpu1")
    }

    @Test("Chrome trace JSON parses and carries the required fields")
    func chromeJSON() throws {
        let json = sampleRecorder().chromeTraceJSON()
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let events = try #require(object?["traceEvents"] as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == 2)
        let gemm = try #require(complete.first { $0["name"] as? String == "gemm" })
        #expect(gemm["ts"] as? Double == 1.5)
        #expect(gemm["dur"] as? Double == 2.501)
        #expect(gemm["pid"] as? Int == 1 && gemm["tid"] as? Int == 1)
        #expect((gemm["args"] as? [String: Any])?["flops"] as? Int == 1 << 30)
        let names = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" }
        #expect(names.compactMap { ($0["args"] as? [String: Any])?["name"] as? String } == ["gpu0", "gpu1"])
        let threads = events.filter { $0["name"] as? String == "thread_name" }
        #expect(threads.count == 3)
        #expect(events.contains { $0["ph"] as? String == "i" && $0["pid"] as? Int == 2 })
    }

    @Test("the hash is stable, order-sensitive and independent of storing")
    func hashProperties() {
        #expect(sampleRecorder().hash == sampleRecorder().hash)
        let hashOnly = TraceRecorder(storesEvents: false)
        let track = hashOnly.track(actor: "gpu0", lane: "compute")
        let reference = TraceRecorder()
        let referenceTrack = reference.track(actor: "gpu0", lane: "compute")
        for recorder in [(hashOnly, track), (reference, referenceTrack)] {
            recorder.0.span(recorder.1, "a", start: .start, end: SimInstant(nanosecondsSinceStart: 5))
            recorder.0.span(recorder.1, "b", start: .start, end: SimInstant(nanosecondsSinceStart: 5))
        }
        #expect(hashOnly.hash == reference.hash)
        #expect(hashOnly.events.isEmpty && hashOnly.eventCount == 2)
        let swapped = TraceRecorder()
        let swappedTrack = swapped.track(actor: "gpu0", lane: "compute")
        swapped.span(swappedTrack, "b", start: .start, end: SimInstant(nanosecondsSinceStart: 5))
        swapped.span(swappedTrack, "a", start: .start, end: SimInstant(nanosecondsSinceStart: 5))
        #expect(swapped.hash != reference.hash)
    }

    @Test("spans named by their interned index record and hash what spans named by text do")
    func internedSpans() {
        let bytes = TraceName("bytes")
        let category = TraceName("category")
        let byText = TraceRecorder()
        let byIndex = TraceRecorder()
        let textTrack = byText.track(actor: "gpu0", lane: "moe")
        let indexTrack = byIndex.track(actor: "gpu0", lane: "moe")
        var nameIndex: Int32 = -1
        var categoryIndex: Int32 = -1
        for (step, name) in ["gate moe", "gate moe", "combine moe", "gate moe"].enumerated() {
            let startNs = Int64(step) * 100
            byText.span(
                textTrack, name, start: SimInstant(nanosecondsSinceStart: startNs),
                end: SimInstant(nanosecondsSinceStart: startNs + 40),
                args: ["bytes": .int(Int64(step)), "category": .string("kernel")])
            if name == "gate moe", nameIndex >= 0 {
                byIndex.beginSpan(indexTrack, interned: nameIndex, startNs: startNs, endNs: startNs + 40)
            } else {
                let index = byIndex.beginSpan(indexTrack, named: name, startNs: startNs, endNs: startNs + 40)
                if name == "gate moe" { nameIndex = index }
            }
            byIndex.addArgument(bytes, Int64(step))
            if categoryIndex >= 0 {
                byIndex.addArgument(category, interned: categoryIndex)
            } else {
                categoryIndex = byIndex.addArgument(category, "kernel")
            }
            byIndex.endRecord()
        }
        #expect(byIndex.hash == byText.hash)
        #expect(byIndex.events == byText.events)
        #expect(byIndex.strings == byText.strings)
        // The index names the text it was interned for: another index names another span.
        let other = TraceRecorder()
        let otherTrack = other.track(actor: "gpu0", lane: "moe")
        let gate = other.beginSpan(otherTrack, named: "gate moe", startNs: 0, endNs: 40)
        other.endRecord()
        let combine = other.beginSpan(otherTrack, named: "combine moe", startNs: 0, endNs: 40)
        other.endRecord()
        other.beginSpan(otherTrack, interned: gate, startNs: 100, endNs: 140)
        other.endRecord()
        #expect(gate != combine)
        #expect(other.events.map(\.name) == ["gate moe", "combine moe", "gate moe"])
    }

    @Test("durations print with units")
    func durationFormatting() {
        #expect(SimDuration.nanoseconds(250).description == "250ns")
        #expect(SimDuration.nanoseconds(3_500).description == "3.5µs")
        #expect(SimDuration.nanoseconds(1_250_000).description == "1.25ms")
        #expect(SimDuration.seconds(2).description == "2s")
        #expect(SimInstant(nanosecondsSinceStart: 1_000).description == "t=1µs")
        #expect(SimDuration.rounded(seconds: 1.5e-6) == .nanoseconds(1_500))
    }
}
