import SimCore
import Testing

@testable import Parallelism

@Suite("EP layer trace names")
struct EPTraceNamesTests {
    /// Each phase's span name and category as the layer recorded them by text before the names were cached.
    private static let expected: [(EPTraceNames.Phase, name: String, category: String)] = [
        (.gate, "gate layers.3.moe", "kernel"),
        (.dispatchCounts, "dispatch counts layers.3.moe", "dispatch"),
        (.dispatch, "dispatch layers.3.moe", "dispatch"),
        (.experts, "experts layers.3.moe", "MLP"),
        (.combine, "combine layers.3.moe", "combine"),
        (.backward, "B layers.3.moe", "B"),
        (.weights, "W layers.3.moe", "W"),
    ]

    @Test("every phase's span, first and again, records and hashes what the span by its text did")
    func cachedSpansEqualSpansByText() throws {
        let byText = TraceRecorder()
        let cached = TraceRecorder()
        let names = EPTraceNames(prefix: "layers.3.moe", rankCount: 2, trace: cached)
        // Twice over, in an order that repeats phases and ranks, so both the first use and the cached index run.
        let order = Self.expected.indices + Self.expected.indices.reversed() + [0, 0, 4]
        for (step, index) in order.enumerated() {
            let (phase, name, category) = Self.expected[index]
            let rank = step % 2
            let startNs = Int64(step) * 1_000
            let textTrack = byText.track(actor: "gpu\(rank)", lane: "moe")
            byText.span(
                textTrack, name, start: SimInstant(nanosecondsSinceStart: startNs),
                end: SimInstant(nanosecondsSinceStart: startNs + 700),
                args: ["bytes": .int(Int64(step * 64)), "category": .string(category)])
            let track = names.track(rank: rank) { cached.track(actor: "gpu\(rank)", lane: "moe") }
            names.span(phase, on: track, startNs: startNs, endNs: startNs + 700, bytes: step * 64)
        }
        #expect(cached.events == byText.events)
        #expect(cached.hash == byText.hash)
        #expect(cached.eventCount == order.count)
    }

    @Test("a lane is made once per rank; a rank outside the layer's is made every time")
    func tracksPerRank() throws {
        let trace = TraceRecorder()
        let names = EPTraceNames(prefix: "moe", rankCount: 1, trace: trace)
        var made = 0
        let make = {
            made += 1
            return trace.track(actor: "gpu0", lane: "moe")
        }
        let first = names.track(rank: 0, make: make)
        let again = names.track(rank: 0, make: make)
        #expect(first == again && made == 1)
        _ = names.track(rank: 5, make: make)
        _ = names.track(rank: 5, make: make)
        #expect(made == 3)
    }
}
