import SimCore

extension PipelineOp {
    /// The op's trace span by the span-naming convention (docs/ARCHITECTURE.md, "Traces and timelines"): the
    /// Gantt label (`F3`, `B3`, `W3`, `BW3`, lower case travelling up) or `F&B F3/b1` for an overlapped pair,
    /// and its category (`F`, `B`, `W`, `F&B`); nil for sends and receives (their chunks are spans already).
    var traceSpan: (name: String, category: String, chunk: PipelineChunk)? {
        switch kind {
        case .forward(let chunk): (GanttChart.label(self), "F", chunk)
        case .backwardInput(let chunk): (GanttChart.label(self), "B", chunk)
        case .backwardWeight(let chunk): (GanttChart.label(self), "W", chunk)
        case .backwardFull(let chunk): (GanttChart.label(self), "B", chunk)
        case .forwardBackward(let forward, let backward):
            ("F&B " + Self.tag("F", forward) + "/" + Self.tag("B", backward), "F&B", forward)
        case .send, .receive: nil
        }
    }

    /// `F3` travelling down, `f3` travelling up (the Gantt chart's case).
    private static func tag(_ letter: String, _ chunk: PipelineChunk) -> String {
        (chunk.direction == .down ? letter : letter.lowercased()) + "\(chunk.microBatch)"
    }

    /// Records the op as a span from `start` to `end` on `track`, with `mb=`, `stage=`, `dir=` and `category=`.
    func recordSpan(on track: TraceTrackID, start: SimInstant, end: SimInstant, in trace: TraceRecorder) {
        guard let span = traceSpan else { return }
        trace.span(
            track, span.name, start: start, end: end,
            args: [
                "mb": .int(Int64(span.chunk.microBatch)), "stage": .int(Int64(span.chunk.stage)),
                "dir": .string("\(span.chunk.direction)"), "category": .string(span.category),
            ])
    }
}
