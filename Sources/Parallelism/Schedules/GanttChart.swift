import SimCore

/// An ASCII Gantt chart of an analysed schedule, one row per device, wrapped to fit a terminal.
///
/// Each cell is `cellDuration` long and each op is drawn as a box `label|` over the cells it covers, in
/// the style of the DualPipe README figure. Labels are the op letter and micro-batch (`F3`, `B3`, `W3`,
/// `BW3`, `F3b1` for an F&B pair); upper case travels down, lower case up; `.` is idle time. An op shorter
/// than a cell still gets one whole cell, and the ops after it on its row move right until idle time absorbs
/// the shift, so every op is drawn, in order, with its own micro-batch.
public struct GanttChart: Sendable {
    /// What the letters mean, printed under every chart (two lines of at most 80 columns; `|` ends each op).
    public static let legend =
        "legend: F forward, B backward (inputs), W backward (weights), BW full backward;\n"
        + "F7b3 F&B pair: F of mb 7 with B of mb 3; UPPER travels down, lower up; . idle"

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

    /// The chart of `analysis`: bands of at most `width` columns, each with one row per device, then the legend.
    public func render(_ analysis: ScheduleAnalysis) -> String {
        let cellWidth = cellWidth(for: analysis)
        var rows = analysis.spans.map { row(for: $0, cellWidth: cellWidth) }
        let rowLength = max(cell(at: SimInstant.start + analysis.makespan) * cellWidth, rows.map(\.count).max() ?? 0)
        rows = rows.map { $0 + Array(repeating: ".", count: rowLength - $0.count) }
        let totalCells = rowLength / cellWidth
        let prefixWidth = "d\(rows.count - 1) ".count
        let cellsPerBand = max(1, (width - prefixWidth) / cellWidth)
        var lines: [String] = []
        for bandStart in stride(from: 0, to: totalCells, by: cellsPerBand) {
            let bandEnd = min(bandStart + cellsPerBand, totalCells)
            lines.append("cells \(bandStart)..<\(bandEnd) (1 cell = \(cellLabel ?? cellDuration.description))")
            for (device, row) in rows.enumerated() {
                let prefix = "d\(device)".padding(toLength: prefixWidth, withPad: " ", startingAt: 0)
                lines.append(prefix + String(row[(bandStart * cellWidth)..<(bandEnd * cellWidth)]))
            }
        }
        return (lines + [Self.legend]).joined(separator: "\n") + "\n"
    }

    private func cell(at instant: SimInstant) -> Int {
        Int(((instant - .start) / cellDuration).rounded())
    }

    /// Room for the longest single-op label plus the `|` that closes its box.
    private func cellWidth(for analysis: ScheduleAnalysis) -> Int {
        let single = analysis.spans.joined().filter { $0.op.label.count == 1 }.map { Self.label($0.op).count }
        return (single.max() ?? 1) + 1
    }

    /// One device's row: each op from its start cell (or the first free cell after the previous op) for its
    /// length in cells, at least one.
    private func row(for spans: [OpSpan], cellWidth: Int) -> [Character] {
        var row: [Character] = []
        var nextFree = 0
        for span in spans {
            let first = max(cell(at: span.start), nextFree)
            let count = max(1, cell(at: span.end) - cell(at: span.start))
            row += Array(repeating: ".", count: first * cellWidth - row.count)
            let box = Self.label(span.op).prefix(count * cellWidth - 1).padding(
                toLength: count * cellWidth - 1, withPad: " ", startingAt: 0)
            row += Array(box + "|")
            nextFree = first + count
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
