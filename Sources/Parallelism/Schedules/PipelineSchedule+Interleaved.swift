extension PipelineSchedule {
    /// Interleaved 1F1B (Megatron virtual pipeline): `devices` x `chunksPerDevice` stages, stage s on device
    /// s mod `devices`; bubble fraction (1/v)(PP-1)/m with PP devices and v chunks per device.
    ///
    /// Device d warms up with 2 (PP-d-1) + (v-1) PP forwards, then alternates; forwards visit the chunks in
    /// groups of PP micro-batches, backwards the same groups with the chunks in reverse. m must be a
    /// multiple of PP, as in Megatron.
    public static func interleavedOneFOneB(devices: Int, chunksPerDevice: Int, microBatches: Int) throws
        -> PipelineSchedule
    {
        let name = "interleaved 1F1B"
        try checkSizes(name, stages: devices, microBatches: microBatches)
        guard chunksPerDevice >= 1 else {
            throw PipelineScheduleError.tooFewChunks(schedule: name, chunksPerDevice: chunksPerDevice)
        }
        guard microBatches % devices == 0 else {
            throw PipelineScheduleError.microBatchesNotMultiple(
                schedule: name, microBatches: microBatches, devices: devices)
        }
        let stages = devices * chunksPerDevice
        var builder = ScheduleBuilder(
            name: name, stageDevices: [(0..<stages).map { $0 % devices }], microBatchesPerDirection: microBatches,
            deviceCount: devices)
        let total = microBatches * chunksPerDevice
        for device in 0..<devices {
            /// The chunk of the k-th forward (or backward) on this device.
            func chunk(_ k: Int, backward: Bool) -> PipelineChunk {
                let group = (k / devices) % chunksPerDevice
                let local = backward ? chunksPerDevice - 1 - group : group
                let microBatch = k / (devices * chunksPerDevice) * devices + k % devices
                return PipelineChunk(stage: local * devices + device, microBatch: microBatch)
            }
            let warmup = min(2 * (devices - device - 1) + (chunksPerDevice - 1) * devices, total)
            for k in 0..<warmup { builder.compute(.forward(chunk(k, backward: false)), on: device) }
            for k in 0..<(total - warmup) {
                builder.compute(.forward(chunk(warmup + k, backward: false)), on: device)
                builder.compute(.backwardFull(chunk(k, backward: true)), on: device)
            }
            for k in (total - warmup)..<total { builder.compute(.backwardFull(chunk(k, backward: true)), on: device) }
        }
        return builder.schedule
    }
}
