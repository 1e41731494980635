import Parallelism
import SimCore
import Testing

/// The validator accepts every generated schedule and rejects hand-broken ones, naming the op at fault.
struct ScheduleValidatorTests {
    @Test("every generated schedule validates", arguments: PipelineScheduleKind.allCases, [4, 8, 16])
    func generatedSchedulesValidate(kind: PipelineScheduleKind, stages pp: Int) throws {
        for m in [2 * pp, 2 * pp + 2, 3 * pp] {
            try PipelineSchedule.generate(kind, stages: pp, microBatches: m).validate()
        }
    }

    /// Expects `schedule` to be rejected with a message containing `text` and, if given, naming `op`.
    private func expectRejected(_ schedule: PipelineSchedule, saying text: String, op: PipelineOp? = nil) {
        let error = #expect(throws: ScheduleValidationError.self) { try schedule.validate() }
        #expect(error?.message.contains(text) == true, "\(error?.message ?? "no error")")
        if let op { #expect(error?.op == op) }
    }

    private func index(of kind: PipelineOp.Kind, in ops: [PipelineOp]) throws -> Int {
        try #require(ops.firstIndex { $0.kind == kind })
    }

    @Test func missingWeightGradientIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.zeroBubbleH1, stages: 4, microBatches: 4)
        let chunk = PipelineChunk(stage: 1, microBatch: 0)
        schedule.devices[1].remove(at: try index(of: .backwardWeight(chunk), in: schedule.devices[1]))
        let owner = PipelineOp(device: 1, .backwardInput(chunk))
        expectRejected(schedule, saying: "missing W(mb 0, stage 1) for B(mb 0, stage 1) on device 1", op: owner)
    }

    @Test func backwardBeforeItsForwardIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2)
        let chunk = PipelineChunk(stage: 1, microBatch: 0)
        let forward = try index(of: .forward(chunk), in: schedule.devices[1])
        let backward = try index(of: .backwardFull(chunk), in: schedule.devices[1])
        schedule.devices[1].swapAt(forward, backward)
        expectRejected(
            schedule, saying: "BW(mb 0, stage 1) on device 1 (op #\(forward)) runs before its input F(mb 0, stage 1)",
            op: PipelineOp(device: 1, .backwardFull(chunk)))
    }

    /// A split B moved just before its own F (ZB1P): the message names the B and the F it needs.
    @Test func splitBackwardBeforeItsForwardIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.zeroBubbleH1, stages: 4, microBatches: 4)
        let chunk = PipelineChunk(stage: 2, microBatch: 1)
        let forward = try index(of: .forward(chunk), in: schedule.devices[2])
        let backward = try index(of: .backwardInput(chunk), in: schedule.devices[2])
        #expect(forward < backward)
        schedule.devices[2].insert(schedule.devices[2].remove(at: backward), at: forward)
        expectRejected(
            schedule,
            saying: "B(mb 1, stage 2) on device 2 (op #\(forward)) runs before its input F(mb 1, stage 2) "
                + "(op #\(forward + 1))",
            op: PipelineOp(device: 2, .backwardInput(chunk)))
    }

    /// DualPipe-V's turning device 1 (PP=4) holds stages 1 and 2, so B of stage 1 waits for B of stage 2
    /// locally, with no message between them; swapping the two split Bs of mb 3 is named.
    @Test func splitBackwardBeforeTheNextStagesBackwardOnOneDeviceIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.dualPipeV, stages: 4, microBatches: 4)
        let lower = PipelineChunk(stage: 1, microBatch: 3)
        let upper = PipelineChunk(stage: 2, microBatch: 3)
        let upperIndex = try index(of: .backwardInput(upper), in: schedule.devices[1])
        #expect(schedule.devices[1][upperIndex + 1].kind == .backwardInput(lower))
        schedule.devices[1].swapAt(upperIndex, upperIndex + 1)
        expectRejected(
            schedule,
            saying: "B(mb 3, stage 1) on device 1 (op #\(upperIndex)) runs before its input B(mb 3, stage 2) "
                + "(op #\(upperIndex + 1))",
            op: PipelineOp(device: 1, .backwardInput(lower)))
    }

    @Test func sendBeforeItsProducerIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2)
        let chunk = PipelineChunk(stage: 0, microBatch: 0)
        let send = try index(of: .send(PipelineTransfer(.activation, of: chunk)), in: schedule.devices[0])
        schedule.devices[0].swapAt(send - 1, send)
        expectRejected(
            schedule, saying: "produces the activation of mb 0, stage 0 but posts no send for it after",
            op: PipelineOp(device: 0, .forward(chunk)))
    }

    /// Device 0 sends its first activation only after the backward that needs it: both devices wait forever.
    @Test func swappedDependencyDeadlocksAndIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 1)
        #expect(
            schedule.devices[0].map(\.kind) == [
                .forward(PipelineChunk(stage: 0, microBatch: 0)),
                .send(PipelineTransfer(.activation, of: PipelineChunk(stage: 0, microBatch: 0))),
                .receive(PipelineTransfer(.gradient, of: PipelineChunk(stage: 1, microBatch: 0))),
                .backwardFull(PipelineChunk(stage: 0, microBatch: 0)),
            ])
        schedule.devices[0].append(schedule.devices[0].remove(at: 1))
        expectRejected(
            schedule,
            saying: "deadlock: BW(mb 0, stage 0) on device 0 (op #2) waits for gradient of mb 0, stage 1; "
                + "F(mb 0, stage 1) on device 1 (op #1) waits for activation of mb 0, stage 0")
    }

    @Test func weightGradientsOutOfFIFOOrderAreNamed() throws {
        var schedule = try PipelineSchedule.generate(.zeroBubbleH1, stages: 4, microBatches: 8)
        let first = try index(of: .backwardWeight(PipelineChunk(stage: 3, microBatch: 0)), in: schedule.devices[3])
        let second = try index(of: .backwardWeight(PipelineChunk(stage: 3, microBatch: 1)), in: schedule.devices[3])
        schedule.devices[3].swapAt(first, second)
        expectRejected(
            schedule,
            saying: "W(mb 1, stage 3) on device 3 (op #\(first)) pops the weight-gradient FIFO out of order "
                + "(oldest entry: mb 0, stage 3)")
    }

    @Test func repeatedForwardIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2)
        let forward = PipelineOp(device: 1, .forward(PipelineChunk(stage: 1, microBatch: 1)))
        schedule.devices[1].append(forward)
        expectRejected(schedule, saying: "repeats F(mb 1, stage 1) already done", op: forward)
    }

    @Test func opOnTheWrongDeviceIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.dualPipe, stages: 4, microBatches: 8)
        let stray = PipelineOp(device: 0, .forward(PipelineChunk(stage: 0, microBatch: 0, direction: .up)))
        schedule.devices[0].insert(stray, at: 0)
        expectRejected(schedule, saying: "runs mb 0 up, stage 0, which lives on device 3", op: stray)
    }

    @Test func missingReceiveIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 1)
        let receive = PipelineOp.Kind.receive(PipelineTransfer(.activation, of: PipelineChunk(stage: 0, microBatch: 0)))
        #expect(schedule.devices[1].first?.kind == receive)
        schedule.devices[1].removeFirst()
        expectRejected(
            schedule,
            saying: "F(mb 0, stage 1) on device 1 (op #0) needs the activation of mb 0, stage 0 but posts no receive")
    }

    @Test func opNamingAnotherDeviceIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 1)
        schedule.devices[1][1].device = 0
        expectRejected(schedule, saying: "F(mb 0, stage 1) on device 0 (op #1) is listed on device 1")
    }

    @Test func chunkOutsideTheScheduleIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.gpipe, stages: 2, microBatches: 1)
        let stray = PipelineOp(device: 0, .forward(PipelineChunk(stage: 0, microBatch: 1)))
        schedule.devices[0].append(stray)
        expectRejected(schedule, saying: "names mb 1, stage 0, which the schedule does not have", op: stray)
    }

    @Test func sendToItselfIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.dualPipeV, stages: 4, microBatches: 4)
        let local = PipelineOp(
            device: 1, .send(PipelineTransfer(.activation, of: PipelineChunk(stage: 1, microBatch: 0))))
        schedule.devices[1].append(local)
        expectRejected(schedule, saying: "talks to its own device", op: local)
    }

    @Test func deviceWithoutStagesIsNamed() throws {
        let chunk = PipelineChunk(stage: 0, microBatch: 0)
        let ops = [PipelineOp(device: 0, .forward(chunk)), PipelineOp(device: 0, .backwardFull(chunk))]
        var alone = PipelineSchedule(
            name: "one device", stageDevices: [[0]], microBatchesPerDirection: 1, deviceCount: 1)
        alone.devices[0] = ops
        try alone.validate()
        var schedule = PipelineSchedule(
            name: "idle device", stageDevices: [[0]], microBatchesPerDirection: 1, deviceCount: 2)
        schedule.devices[0] = ops
        expectRejected(schedule, saying: "device 1 holds no stage")
    }

    /// DualPipe's placement must give every device two stages (r and PP-1-r); here the up direction puts
    /// stage 3 on device 1 instead of device 0, leaving device 0 one stage and device 1 three.
    @Test func dualPipeDeviceWithOneStageIsNamed() throws {
        var schedule = try PipelineSchedule.generate(.dualPipe, stages: 4, microBatches: 8)
        #expect(schedule.stageDevices == [[0, 1, 2, 3], [3, 2, 1, 0]])
        #expect((0..<4).map { schedule.parameterCopies(device: $0) } == [2, 2, 2, 2])
        schedule.stageDevices[1][3] = 1
        expectRejected(
            schedule,
            saying: "device 0 holds the parameters of 1 stage(s) (0), not 2: DualPipe places 2 direction(s) x 4 "
                + "stages on 4 devices")
    }

    /// Interleaved 1F1B must give each device v stages: with v = 2 on 2 devices, stage 2 moved to device 1
    /// leaves device 0 one stage.
    @Test func unevenInterleavedPlacementIsNamed() throws {
        var schedule = try PipelineSchedule.interleavedOneFOneB(devices: 2, chunksPerDevice: 2, microBatches: 4)
        #expect(schedule.stageDevices == [[0, 1, 0, 1]])
        try schedule.validate()
        schedule.stageDevices[0][2] = 1
        expectRejected(
            schedule,
            saying: "device 0 holds the parameters of 1 stage(s) (0), not 2: interleaved 1F1B places 1 "
                + "direction(s) x 4 stages on 2 devices")
        var uneven = PipelineSchedule(
            name: "uneven", stageDevices: [[0, 1, 1]], microBatchesPerDirection: 1, deviceCount: 2)
        uneven.devices[0] = [PipelineOp(device: 0, .forward(PipelineChunk(stage: 0, microBatch: 0)))]
        expectRejected(
            uneven, saying: "uneven places 1 direction(s) x 3 stages on 2 devices, which cannot hold equal shares")
    }
}
