/// Checks that a schedule is one correct training step: shares, placement, each op once, dependencies, W FIFO.
struct ScheduleValidator {
    /// Where an op sits: device and index in that device's list.
    struct Location: Hashable {
        var device: Int
        var index: Int
    }

    let schedule: PipelineSchedule
    private var workAt: [ChunkWork: Location] = [:]  // lookup only, never iterated
    private var sendAt: [PipelineTransfer: Location] = [:]  // lookup only, never iterated
    private var receiveAt: [PipelineTransfer: Location] = [:]  // lookup only, never iterated

    init(_ schedule: PipelineSchedule) { self.schedule = schedule }

    /// Runs every structural check, in the order the doc comment of `PipelineSchedule.validate` lists.
    mutating func check() throws {
        try checkParameters()
        try indexOps()
        try checkCompleteness()
        for device in 0..<schedule.deviceCount {
            try checkDependencies(device: device)
            try checkWeightQueue(device: device)
        }
    }

    private static func name(_ op: PipelineOp, _ index: Int) -> String { "\(op) (op #\(index))" }

    private mutating func indexOps() throws {
        for (device, ops) in schedule.devices.enumerated() {
            for (index, op) in ops.enumerated() {
                try checkPlacement(op, at: Location(device: device, index: index))
                try record(op, at: Location(device: device, index: index))
            }
        }
    }

    private func checkPlacement(_ op: PipelineOp, at location: Location) throws {
        let here = Self.name(op, location.index)
        guard op.device == location.device else {
            throw ScheduleValidationError("\(here) is listed on device \(location.device)", op: op)
        }
        let (chunks, remote): ([PipelineChunk], PipelineChunk?) =
            switch op.kind {
            case .send(let t): ([t.producer], t.consumer)
            case .receive(let t): ([t.consumer], t.producer)
            default: (op.kind.work.map(\.chunk), nil)
            }
        for chunk in chunks + [remote].compactMap({ $0 }) where !schedule.contains(chunk) {
            throw ScheduleValidationError("\(here) names \(chunk), which the schedule does not have", op: op)
        }
        for chunk in chunks where schedule.placement(of: chunk) != op.device {
            throw ScheduleValidationError(
                "\(here) runs \(chunk), which lives on device \(schedule.placement(of: chunk))", op: op)
        }
        if let remote, schedule.placement(of: remote) == op.device {
            throw ScheduleValidationError("\(here) talks to its own device", op: op)
        }
    }

    private mutating func record(_ op: PipelineOp, at location: Location) throws {
        switch op.kind {
        case .send(let t): try Self.once(t, "send of \(t)", in: &sendAt, op: op, at: location)
        case .receive(let t): try Self.once(t, "receive of \(t)", in: &receiveAt, op: op, at: location)
        default: for work in op.kind.work { try Self.once(work, "\(work)", in: &workAt, op: op, at: location) }
        }
    }

    /// Records that `op` does `key`, or throws if an earlier op did.
    private static func once<Key: Hashable>(
        _ key: Key, _ what: String, in table: inout [Key: Location], op: PipelineOp, at location: Location
    ) throws {
        if let first = table[key] {
            throw ScheduleValidationError(
                "\(name(op, location.index)) repeats \(what) already done at op #\(first.index) on device "
                    + "\(first.device)", op: op)
        }
        table[key] = location
    }

    private func checkCompleteness() throws {
        for chunk in schedule.allChunks {
            for role in [ChunkWork.Role.forward, .backward, .weight]
            where workAt[ChunkWork(role: role, chunk: chunk)] == nil {
                let work = ChunkWork(role: role, chunk: chunk)
                let owner = role == .weight ? workAt[ChunkWork(role: .backward, chunk: chunk)] : nil
                let context = owner.map { " for \(Self.name(op(at: $0), $0.index))" } ?? ""
                throw ScheduleValidationError("missing \(work)\(context)", op: owner.map { op(at: $0) })
            }
        }
    }

    private func op(at location: Location) -> PipelineOp { schedule.devices[location.device][location.index] }

    private func checkDependencies(device: Int) throws {
        for (index, op) in schedule.devices[device].enumerated() {
            for work in op.kind.work {
                for input in schedule.inputs(of: work) {
                    try checkInput(input, of: work, op: op, at: Location(device: device, index: index))
                }
            }
        }
    }

    private func checkInput(_ input: ChunkWork, of work: ChunkWork, op: PipelineOp, at location: Location) throws {
        guard let source = workAt[input] else { return }
        let here = Self.name(op, location.index)
        let sameOp = source == location && work.role == .weight
        guard source.device != location.device || source.index < location.index || sameOp else {
            throw ScheduleValidationError("\(here) runs before its input \(input) (op #\(source.index))", op: op)
        }
        guard let transfer = schedule.remoteOutput(of: input), transfer.consumer == work.chunk else { return }
        guard let receive = receiveAt[transfer], receive.index < location.index else {
            throw ScheduleValidationError("\(here) needs the \(transfer) but posts no receive for it before", op: op)
        }
        guard let send = sendAt[transfer], send.index > source.index else {
            let producer = self.op(at: source)
            throw ScheduleValidationError(
                "\(Self.name(producer, source.index)) produces the \(transfer) but posts no send for it after",
                op: producer)
        }
    }

    /// Every W pops its own B from the FIFO; with every B having a W, the FIFO ends empty.
    private func checkWeightQueue(device: Int) throws {
        var queue: [PipelineChunk] = []
        for (index, op) in schedule.devices[device].enumerated() {
            switch op.kind {
            case .backwardInput(let chunk): queue.append(chunk)
            case .backwardWeight(let chunk):
                guard queue.first == chunk else {
                    let oldest = queue.first.map { "\($0)" } ?? "none"
                    throw ScheduleValidationError(
                        "\(Self.name(op, index)) pops the weight-gradient FIFO out of order (oldest entry: \(oldest))",
                        op: op)
                }
                queue.removeFirst()
            default: continue
            }
        }
    }

    /// Every device holds the parameters of the same number of stages: its share of the placement, directions x
    /// stages / devices (1 for 1F1B, 2 for DualPipe and DualPipe-V, v for interleaved 1F1B).
    private func checkParameters() throws {
        let placements = schedule.directions.count * schedule.stageCount
        let devices = schedule.deviceCount
        guard devices >= 1 else { throw ScheduleValidationError("\(schedule.name) has no devices") }
        for device in 0..<devices where schedule.parameterCopies(device: device) == 0 {
            throw ScheduleValidationError("device \(device) holds no stage")
        }
        let shape = "\(schedule.name) places \(schedule.directions.count) direction(s) x \(schedule.stageCount) stages"
        guard placements % devices == 0 else {
            throw ScheduleValidationError("\(shape) on \(devices) devices, which cannot hold equal shares")
        }
        let share = placements / devices
        for device in 0..<devices {
            let copies = schedule.parameterCopies(device: device)
            guard copies == share else {
                // The distinct stages, as `parameterCopies` counts them, in ascending order.
                let placed = schedule.stageDevices.flatMap { row in row.indices.filter { row[$0] == device } }
                var stages: [Int] = []
                for stage in placed.sorted() where stages.last != stage { stages.append(stage) }
                let held = stages.map(String.init).joined(separator: ", ")
                throw ScheduleValidationError(
                    "device \(device) holds the parameters of \(copies) stage(s) (\(held)), not \(share): "
                        + "\(shape) on \(devices) devices")
            }
        }
    }
}
