import Parallelism
import SimCore
import Testing

/// The ASCII Gantt chart: golden output for a small case, and the 80-column limit at PP=8, m=20.
struct GanttChartTests {
    static let unit = SimDuration.microseconds(1)

    private func chart(_ kind: PipelineScheduleKind, stages: Int, microBatches: Int) throws -> String {
        let schedule = try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches)
        let analysis = try schedule.analyze(durations: .uniform(Self.unit))
        return try GanttChart(cellDuration: Self.unit).render(analysis)
    }

    /// Upper case travels down, lower case up; `F3b1` is an F&B pair; `.` is idle; `|` closes each op.
    @Test func dualPipeGolden() throws {
        let expected = """
            cells 0..<25 (1 cell = 1µs)
            d0 F0|F1|F2|f0|b0|...w0|f1|F3b1    |f2B0    |bw2  |...f3B1    |bw3  |B2|W2|B3|
            d1 ...F0|f0|F1|f1|F2|bw0  |f2B0    |F3b1    |f3B1    |bw2  |BW2  |...b3|B3|w3|
            d2 ...f0|F0|f1|F1|f2|BW0  |F2b0    |f3B1    |F3b1    |BW2  |bw2  |...B3|b3|W3|
            d3 f0|f1|f2|F0|B0|...W0|F1|f3B1    |F2b0    |BW2  |...F3b1    |BW3  |b2|w2|b3|
            cells 25..<26 (1 cell = 1µs)
            d0 W3|
            d1 W3|
            d2 w3|
            d3 w3|
            legend: F forward, B backward (inputs), W backward (weights), BW full backward;
            F7b3 F&B pair: F of mb 7 with B of mb 3; UPPER travels down, lower up; . idle

            """
        #expect(try chart(.dualPipe, stages: 4, microBatches: 8) == expected)
    }

    @Test(
        "PP=8, m=20 fits 80 columns with every device in every band", arguments: PipelineScheduleKind.allCases)
    func fitsEightyColumns(kind: PipelineScheduleKind) throws {
        let lines = try chart(kind, stages: 8, microBatches: 20).split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 80 })
        let devices = kind == .dualPipeV ? 4 : 8
        let bands = lines.filter { $0.hasPrefix("cells ") }.count
        #expect(bands >= 2)
        #expect(lines.count == bands * (devices + 1) + 2)
    }

    /// Ops shorter than a cell (f = 1/1000 of b and w) each take a cell of their own, in order, so every
    /// micro-batch is drawn with its own label.
    @Test func opsShorterThanACellKeepTheirOrder() throws {
        let schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 3)
        let durations = OpDurations(
            forward: .nanoseconds(1), backwardInput: .nanoseconds(1000), backwardWeight: .nanoseconds(1000))
        let analysis = try schedule.analyze(durations: durations)
        let chart = try GanttChart(cellDuration: .nanoseconds(1000)).render(analysis)
        let expected = """
            cells 0..<9 (1 cell = 1µs)
            d0 F0|F1|BW0  |F2|BW1  |BW2  |
            d1 F0|BW0  |F1|BW1  |F2|BW2  |
            legend: F forward, B backward (inputs), W backward (weights), BW full backward;
            F7b3 F&B pair: F of mb 7 with B of mb 3; UPPER travels down, lower up; . idle

            """
        #expect(chart == expected)
    }

    @Test func cellsMustLastMoreThanZero() {
        #expect(throws: GanttChart.Failure.nonPositiveCellDuration(.zero)) { try GanttChart(cellDuration: .zero) }
        #expect(
            GanttChart.Failure.nonPositiveCellDuration(.nanoseconds(-5)).description
                == "a Gantt cell must last more than 0, got -5ns")
    }
}
