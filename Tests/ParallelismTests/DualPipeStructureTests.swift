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

    /// Compute-op order of ranks 0 and 3 (the turning rank) at PP=8, m=16, written down by hand from the reference
    /// `step()` with H = 4, n = 8 micro-batches per direction and the loop counts of REFERENCES.md.
    ///
    /// Token `F0.3` is the forward of phase 0 (stage h, entering at this rank's end) for micro-batch 3, `F1` of
    /// phase 1 (stage PP-1-h, the other direction); `B` is a split B, `BW` a full backward, `W` the weight
    /// gradient the FIFO pops; `F0.7+B1.3` is an F&B pair.
    @Test(
        "golden op order at PP=8, m=16",
        arguments: [
            (
                0,
                [
                    "F0.0 F0.1 F0.2 F0.3 F0.4 F0.5",  // 1 nF0: 2 (H-h-1) = 6
                    "F0.6 F1.0",  // 2 nF0F1: h+1 = 1
                    "B1.0 W1.0 F1.1 B1.1 W1.1 F1.2 B1.2 W1.2 F1.3",  // 3 nB1W1F1: H-h-1 = 3, zero bubble
                    "F0.7+B1.3 F1.4+B0.0",  // 4 nF0B1F1B0: n-PP+h+1 = 1
                    "BW1.4 F1.5+B0.1 BW1.5 F1.6+B0.2 BW1.6 F1.7+B0.3",  // 5 nB1F1B0: H-h-1 = 3
                    "BW1.7 B0.4",  // 6 nB1B0: h+1 = 1, zero bubble from B0 of i = 0 (h even)
                    "W0.4 B0.5 W0.5 B0.6 W0.6 B0.7",  // 7 nWB0: H-h-1 = 3
                    "W0.7",  // 8 nW: h+1 = 1
                ]
            ),
            (
                3,
                [
                    // 1 nF0: 2 (H-h-1) = 0
                    "F0.0 F1.0 F0.1 F1.1 F0.2 F1.2 F0.3 F1.3",  // 2 nF0F1: h+1 = 4
                    // 3 nB1W1F1: H-h-1 = 0
                    // 4 nF0B1F1B0: n-PP+h+1 = 4; the turning rank does not pair its first F0 with B1.
                    "F0.4 BW1.0 F1.4+B0.0 F0.5+B1.1 F1.5+B0.1 F0.6+B1.2 F1.6+B0.2 F0.7+B1.3 F1.7+B0.3",
                    // 5 nB1F1B0: H-h-1 = 0
                    "BW1.4 BW0.4 BW1.5 BW0.5 B1.6 B0.6 B1.7 B0.7",  // 6 nB1B0: h+1 = 4, zero bubble from i = 2 (h odd)
                    // 7 nWB0: H-h-1 = 0
                    "W1.6 W0.6 W1.7 W0.7",  // 8 nW: h+1 = 4
                ]
            ),
        ])
    func goldenOpOrder(rank: Int, steps: [String]) throws {
        let (pp, m) = (8, 16)
        let h = min(rank, pp - 1 - rank)
        let phases = [
            (stage: h, direction: rank < pp / 2 ? PipelineDirection.down : .up),
            (stage: pp - 1 - h, direction: rank < pp / 2 ? PipelineDirection.up : .down),
        ]
        func chunk(_ token: Substring) throws -> PipelineChunk {
            let parts = token.split(separator: ".")
            let phase = try #require(parts.first?.last.flatMap { Int(String($0)) })
            let microBatch = try #require(Int(parts.last ?? ""))
            return PipelineChunk(stage: phases[phase].stage, microBatch: microBatch, direction: phases[phase].direction)
        }
        func kind(_ token: Substring) throws -> PipelineOp.Kind {
            let pair = token.split(separator: "+")
            if pair.count == 2 { return .forwardBackward(forward: try chunk(pair[0]), backward: try chunk(pair[1])) }
            if token.hasPrefix("BW") { return .backwardFull(try chunk(token)) }
            if token.hasPrefix("F") { return .forward(try chunk(token)) }
            if token.hasPrefix("B") { return .backwardInput(try chunk(token)) }
            return .backwardWeight(try chunk(token))
        }
        let expected = try steps.flatMap { try $0.split(separator: " ").map(kind) }
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: pp, microBatches: m)
        let actual = schedule.devices[rank].filter(\.isCompute).map(\.kind)
        #expect(actual.count == expected.count)
        for (index, (got, want)) in zip(actual, expected).enumerated() {
            #expect(got == want, "rank \(rank), compute op #\(index)")
        }
    }
}
