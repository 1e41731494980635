import SimCore

/// An ASCII Gantt chart of an analysed schedule, one row per device, wrapped to fit a terminal.
///
/// Each cell is `cellDuration` long and each op is drawn as a box `label|` over the cells it covers, in
/// the style of the DualPipe README figure. Labels are the op letter and micro-batch (`F3`, `B3`, `W3`,
/// `BW3`, `F3b1` for an F&B pair); upper case travels down, lower case up; `.` is idle time.
public struct GanttChart: Sendable {
    /// The time one cell stands for.
    public let cellDuration: SimDuration
    /// The widest line, in characters.
    public let width: Int
    /// How the header names one cell's length (default: the duration, e.g. `1µs`).
    public var cellLabel: String?

    /// Why a chart cannot be drawn.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Cells must stand for a positive time.
        case nonPositiveCellDuration(SimDuration)

        public var description: String {
            switch self {
            case .nonPositiveCellDuration(let duration): "a Gantt cell must last more than 0, got \(duration)"
            }
        }
    }

    /// A chart with `cellDuration` (> 0) per cell, wrapped at `width` columns.
    public init(cellDuration: SimDuration, width: Int = 80) throws {
        guard cellDuration > .zero else { throw Failure.nonPositiveCellDuration(cellDuration) }
        self.cellDuration = cellDuration
        self.width = width
    }

    /// The chart of `analysis`: bands of at most `width` columns, each with one row per device.
    public func render(_ analysis: ScheduleAnalysis) -> String {
        let cellWidth = cellWidth(for: analysis)
        let cellCount = cell(at: SimInstant.start + analysis.makespan)
        let rows = analysis.spans.map { row(for: $0, length: cellCount * cellWidth, cellWidth: cellWidth) }
        let prefixWidth = "d\(rows.count - 1) ".count
        let cellsPerBand = max(1, (width - prefixWidth) / cellWidth)
        var lines: [String] = []
        for bandStart in stride(from: 0, to: cellCount, by: cellsPerBand) {
            let bandEnd = min(bandStart + cellsPerBand, cellCount)
            lines.append("cells \(bandStart)..<\(bandEnd) (1 cell = \(cellLabel ?? cellDuration.description))")
            for (device, row) in rows.enumerated() {
                let prefix = "d\(device)".padding(toLength: prefixWidth, withPad: " ", startingAt: 0)
                lines.append(prefix + String(row[(bandStart * cellWidth)..<(bandEnd * cellWidth)]))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func cell(at instant: SimInstant) -> Int {
        Int(((instant - .start) / cellDuration).rounded())
    }

    /// Room for the longest single-op label plus the `|` that closes its box.
    private func cellWidth(for analysis: ScheduleAnalysis) -> Int {
        let single = analysis.spans.joined().filter { $0.op.label.count == 1 }.map { Self.label($0.op).count }
        return (single.max() ?? 1) + 1
    }

    private func row(for spans: [OpSpan], length: Int, cellWidth: Int) -> [Character] {
        var row = [Character](repeating: ".", count: length)
        for span in spans {
            let first = cell(at: span.start)
            let count = max(1, cell(at: span.end) - first)
            let box = Self.label(span.op).prefix(count * cellWidth - 1).padding(
                toLength: count * cellWidth - 1, withPad: " ", startingAt: 0)
            let offset = first * cellWidth
            for (index, character) in (box + "|").enumerated() where offset + index < row.count {
                row[offset + index] = character
            }
        }
        return row
    }

    /// `F3`, `b3`, `BW3`, `F3b1`: op letters in the case of the chunk's direction, then its micro-batch.
    static func label(_ op: PipelineOp) -> String {
        func tag(_ letters: String, _ chunk: PipelineChunk) -> String {
            (chunk.direction == .down ? letters : letters.lowercased()) + "\(chunk.microBatch)"
        }
        switch op.kind {
        case .forward(let c): return tag("F", c)
        case .backwardInput(let c): return tag("B", c)
        case .backwardWeight(let c): return tag("W", c)
        case .backwardFull(let c): return tag("BW", c)
        case .forwardBackward(let f, let b): return tag("F", f) + tag("B", b)
        case .send, .receive: return op.label
        }
    }
}
