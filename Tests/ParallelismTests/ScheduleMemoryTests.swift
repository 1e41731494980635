import Parallelism
import SimCore
import Testing

/// Activation peaks, parameter copies and device counts against the table of REFERENCES.md.
struct ScheduleMemoryTests {
    @Test("peak activations: GPipe m, 1F1B and ZB1P PP, DualPipe and DualPipe-V PP+1", arguments: [4, 8, 16])
    func activations(stages pp: Int) throws {
        let m = 2 * pp + 2
        let expected: [(PipelineScheduleKind, Int)] = [
            (.gpipe, m), (.oneFOneB, pp), (.zeroBubbleH1, pp), (.dualPipe, pp + 1), (.dualPipeV, pp + 1),
        ]
        for (kind, peak) in expected {
            let analysis = try analyse(kind, stages: pp, microBatches: m, Durations(1, 1, 1))
            #expect(analysis.peakActivations.max() == peak, "\(kind)")
        }
    }

    @Test("1F1B device d holds PP-d activations; ZB1P holds PP on every device", arguments: [4, 8, 16])
    func activationsPerDevice(stages pp: Int) throws {
        let oneFOneB = try analyse(.oneFOneB, stages: pp, microBatches: 2 * pp, Durations(1, 1, 1))
        #expect(oneFOneB.peakActivations == (0..<pp).map { pp - $0 })
        let zeroBubble = try analyse(.zeroBubbleH1, stages: pp, microBatches: 2 * pp, Durations(1, 1, 1))
        #expect(zeroBubble.peakActivations == Array(repeating: pp, count: pp))
    }

    @Test("parameter copies 1x or 2x, on PP or PP/2 devices", arguments: [4, 8, 16])
    func parameters(stages pp: Int) throws {
        let expected: [(PipelineScheduleKind, copies: Int, devices: Int)] = [
            (.gpipe, 1, pp), (.oneFOneB, 1, pp), (.zeroBubbleH1, 1, pp), (.dualPipe, 2, pp), (.dualPipeV, 2, pp / 2),
        ]
        for (kind, copies, devices) in expected {
            let analysis = try analyse(kind, stages: pp, microBatches: 2 * pp, Durations(1, 1, 1))
            #expect(analysis.parameterCopies == Array(repeating: copies, count: devices), "\(kind)")
        }
    }
}
