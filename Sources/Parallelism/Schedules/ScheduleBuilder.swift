/// Appends ops to a schedule under construction; shared by the generators.
struct ScheduleBuilder {
    /// The schedule built so far.
    var schedule: PipelineSchedule

    /// An empty schedule (see `PipelineSchedule.init`).
    init(name: String, stageDevices: [[Int]], microBatchesPerDirection: Int, deviceCount: Int) {
        schedule = PipelineSchedule(
            name: name, stageDevices: stageDevices, microBatchesPerDirection: microBatchesPerDirection,
            deviceCount: deviceCount)
    }

    /// An empty single-direction schedule with stage s on device s.
    init(name: String, stages: Int, microBatches: Int) {
        self.init(
            name: name, stageDevices: [Array(0..<stages)], microBatchesPerDirection: microBatches, deviceCount: stages)
    }

    /// Appends `kind` to `device`'s list as it is.
    mutating func append(_ kind: PipelineOp.Kind, on device: Int) {
        schedule.devices[device].append(PipelineOp(device: device, kind))
    }

    /// Appends receives for `kind`'s remote inputs, `kind` itself, then sends for its remote outputs.
    mutating func compute(_ kind: PipelineOp.Kind, on device: Int) {
        let op = PipelineOp(device: device, kind)
        for transfer in schedule.remoteInputs(of: op) { append(.receive(transfer), on: device) }
        schedule.devices[device].append(op)
        for transfer in schedule.remoteOutputs(of: op) { append(.send(transfer), on: device) }
    }
}
