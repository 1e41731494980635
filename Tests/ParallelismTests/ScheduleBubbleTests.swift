import Parallelism
import SimCore
import Testing

/// Bubbles against the closed forms of REFERENCES.md; expected values are computed from the formulas here.
/// Durations are in units of 10 ns, so (1, 1.2, 0.6) is (10, 12, 6) and (2, 3, 1) is (20, 30, 10).
struct ScheduleBubbleTests {
    static let anyDurations = [Durations(10, 10, 10), Durations(10, 12, 6), Durations(20, 30, 10)]
    /// f = b >= w, where the DualPipe closed form is derived; the last one has fb < f + b + w.
    static let equalForwardBackward = [
        Durations(10, 10, 10), Durations(10, 10, 4), Durations(20, 20, 10), Durations(10, 10, 10, fb: 25),
    ]
    /// f != b, with w <= min(f, b).
    static let unequalForwardBackward = [Durations(10, 12, 6), Durations(20, 30, 10), Durations(30, 20, 10)]

    @Test("GPipe: bubble (PP-1)(f+b+w) on every device, fraction (PP-1)/(m+PP-1)", arguments: [4, 8, 16], anyDurations)
    func gpipe(stages pp: Int, durations d: Durations) throws {
        for m in [1, pp, 2 * pp + 3] {
            let analysis = try analyse(.gpipe, stages: pp, microBatches: m, d)
            #expect(analysis.idleNs == Array(repeating: Int64(pp - 1) * (d.f + d.b + d.w), count: pp))
            #expect(abs(analysis.bubbleFraction - Double(pp - 1) / Double(m + pp - 1)) < 1e-12)
        }
    }

    @Test("1F1B: bubble (PP-1)(f+b+w) on every device", arguments: [4, 8, 16], anyDurations)
    func oneFOneB(stages pp: Int, durations d: Durations) throws {
        for m in [pp, pp + 1, 3 * pp] {
            let analysis = try analyse(.oneFOneB, stages: pp, microBatches: m, d)
            #expect(analysis.idleNs == Array(repeating: Int64(pp - 1) * (d.f + d.b + d.w), count: pp))
            #expect(analysis.makespan.nanoseconds == Int64(m + pp - 1) * (d.f + d.b + d.w))
        }
    }

    @Test("ZB1P: bubble (PP-1)(f+b-w) on every device when w <= min(f, b)", arguments: [4, 8, 16], anyDurations)
    func zeroBubbleH1(stages pp: Int, durations d: Durations) throws {
        for m in [pp, pp + 1, 3 * pp] {
            let analysis = try analyse(.zeroBubbleH1, stages: pp, microBatches: m, d)
            #expect(analysis.idleNs == Array(repeating: Int64(pp - 1) * (d.f + d.b - d.w), count: pp))
        }
    }

    @Test(
        "DualPipe and DualPipe-V: bubble (PP/2-1)(fb+b-2w) when f = b >= w",
        arguments: [PipelineScheduleKind.dualPipe, .dualPipeV], [4, 8, 16])
    func dualPipeEqualDurations(kind: PipelineScheduleKind, stages pp: Int) throws {
        for d in Self.equalForwardBackward {
            for m in kind == .dualPipe ? [2 * pp, 2 * pp + 2, 3 * pp] : [pp, pp + 1, 2 * pp + 3] {
                let analysis = try analyse(kind, stages: pp, microBatches: m, d)
                let expected = Int64(pp / 2 - 1) * (d.pair + d.b - 2 * d.w)
                #expect(analysis.bubble.nanoseconds == expected, "\(kind) PP=\(pp) m=\(m) \(d)")
                if d.fb == nil { #expect(Set(analysis.idleNs) == [expected], "every device idles the same") }
            }
        }
    }

    /// A list schedule's times are maxima of sums of durations, so they never decrease when a duration grows.
    /// With lo = min(f, b) and hi = max(f, b), the makespan therefore lies between the closed-form makespans
    /// at (lo, lo, w) and (hi, hi, w), where f = b >= w holds and the formula is exact.
    @Test(
        "DualPipe and DualPipe-V at f != b: makespan between the closed forms at f = b = min and f = b = max",
        arguments: [PipelineScheduleKind.dualPipe, .dualPipeV], [4, 8, 16])
    func dualPipeUnequalDurations(kind: PipelineScheduleKind, stages pp: Int) throws {
        for d in Self.unequalForwardBackward {
            let m = kind == .dualPipe ? 2 * pp + 2 : pp + 1
            let chunksPerDevice = Int64(kind == .dualPipe ? m : 2 * m)
            func closedFormMakespan(_ x: Int64) -> Int64 {
                chunksPerDevice * (2 * x + d.w) + Int64(pp / 2 - 1) * ((2 * x + d.w) + x - 2 * d.w)
            }
            let analysis = try analyse(kind, stages: pp, microBatches: m, d)
            let makespan = analysis.makespan.nanoseconds
            #expect(makespan >= closedFormMakespan(min(d.f, d.b)), "\(kind) PP=\(pp) \(d)")
            #expect(makespan <= closedFormMakespan(max(d.f, d.b)), "\(kind) PP=\(pp) \(d)")
            #expect(analysis.busyTime.allSatisfy { $0.nanoseconds == chunksPerDevice * (d.f + d.b + d.w) })
        }
    }
}
