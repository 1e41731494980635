extension PipelineSchedule {
    /// GPipe: every device runs all forwards, then all full backwards, in micro-batch order.
    static func gpipe(stages: Int, microBatches: Int) -> PipelineSchedule {
        var builder = ScheduleBuilder(name: "GPipe", stages: stages, microBatches: microBatches)
        for device in 0..<stages {
            let chunks = (0..<microBatches).map { PipelineChunk(stage: device, microBatch: $0) }
            for chunk in chunks { builder.compute(.forward(chunk), on: device) }
            for chunk in chunks { builder.compute(.backwardFull(chunk), on: device) }
        }
        return builder.schedule
    }

    /// 1F1B, or ZB-H1 when `splitBackward`: device d warms up with PP-1-d forwards, then alternates.
    ///
    /// ZB-H1 splits each backward into B and W and lets device d keep d weight gradients in its FIFO,
    /// run at the end of the step, so the drain is filled with W while activations stay at PP.
    static func oneFOneB(stages: Int, microBatches: Int, splitBackward: Bool) -> PipelineSchedule {
        let name = splitBackward ? "ZB1P" : "1F1B"
        var builder = ScheduleBuilder(name: name, stages: stages, microBatches: microBatches)
        for device in 0..<stages {
            let chunk = { PipelineChunk(stage: device, microBatch: $0) }
            let warmup = min(stages - 1 - device, microBatches)
            var deferred: [PipelineChunk] = []
            func backward(_ microBatch: Int) {
                guard splitBackward else { return builder.compute(.backwardFull(chunk(microBatch)), on: device) }
                builder.compute(.backwardInput(chunk(microBatch)), on: device)
                deferred.append(chunk(microBatch))
                if deferred.count > device { builder.compute(.backwardWeight(deferred.removeFirst()), on: device) }
            }
            for microBatch in 0..<warmup { builder.compute(.forward(chunk(microBatch)), on: device) }
            for microBatch in warmup..<microBatches {
                builder.compute(.forward(chunk(microBatch)), on: device)
                backward(microBatch - warmup)
            }
            for microBatch in (microBatches - warmup)..<microBatches { backward(microBatch) }
            for weight in deferred { builder.compute(.backwardWeight(weight), on: device) }
        }
        return builder.schedule
    }
}
