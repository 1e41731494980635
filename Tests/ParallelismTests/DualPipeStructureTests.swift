import Parallelism
import SimCore
import Testing

/// Op counts per rank follow the reference's eight phases (dualpipe.py / dualpipev.py `step`).
///
/// With H = PP/2, h = min(rank, PP-1-rank) and n micro-batches per phase (m/2, or m for DualPipe-V):
/// F&B pairs: 2 (n - 2H + h + 1) in step 4 plus H - h - 1 in step 5, less one at the turning rank (h = H-1),
/// whose first step-4 pair runs as F then BW; BW: H - h - 1 (step 5) + h + 1 (first half of step 6) + 1 at the
/// turning rank; B and W: H - h - 1 (step 3) + h + 1 (second half of step 6) + H - h - 1 (step 7).
struct DualPipeStructureTests {
    @Test("op counts per rank", arguments: [PipelineScheduleKind.dualPipe, .dualPipeV], [4, 8, 16])
    func opCountsPerRank(kind: PipelineScheduleKind, stages pp: Int) throws {
        let m = kind == .dualPipe ? 2 * pp + 4 : pp + 3
        let n = kind == .dualPipe ? m / 2 : m
        let schedule = try PipelineSchedule.generate(kind, stages: pp, microBatches: m)
        let half = pp / 2
        for (device, ops) in schedule.devices.enumerated() {
            let h = min(device, pp - 1 - device)
            let turning = h == half - 1 ? 1 : 0
            func count(_ label: String) -> Int { ops.filter { $0.label == label }.count }
            #expect(count("F&B") == 2 * (n - 2 * half + h + 1) + (half - h - 1) - turning, "device \(device)")
            #expect(count("BW") == (half - h - 1) + (h + 1) + turning, "device \(device)")
            #expect(count("B") == 2 * (half - h - 1) + (h + 1), "device \(device)")
            #expect(count("W") == count("B"), "device \(device)")
        }
    }

    /// Rank r starts with 2 (H - r - 1) + 1 forwards of its near stage before its first far-stage forward.
    @Test("warm-up: step 1 then step 2 start", arguments: [4, 8, 16])
    func warmUp(stages pp: Int) throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: pp, microBatches: 2 * pp)
        for rank in 0..<(pp / 2) {
            let forwards = schedule.devices[rank].filter(\.isCompute).prefix { op in
                if case .forward(let chunk) = op.kind { return chunk.stage == rank }
                return false
            }
            #expect(forwards.count == 2 * (pp / 2 - rank - 1) + 1, "rank \(rank)")
        }
    }

    /// The two directions mirror each other: rank r and rank PP-1-r finish at the same time, as do their ops.
    @Test("mirror symmetry of the two directions", arguments: [4, 8, 16])
    func mirrorSymmetry(stages pp: Int) throws {
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: pp, microBatches: 2 * pp + 2)
        let analysis = try schedule.analyze(durations: OpDurations.uniform(.nanoseconds(10)))
        for rank in 0..<pp {
            let mirror = analysis.spans[pp - 1 - rank]
            #expect(analysis.spans[rank].map(\.start) == mirror.map(\.start), "rank \(rank)")
            #expect(analysis.spans[rank].map(\.op.label) == mirror.map(\.op.label), "rank \(rank)")
        }
    }
}
