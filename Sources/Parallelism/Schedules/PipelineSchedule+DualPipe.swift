extension PipelineSchedule {
    /// DualPipe (rank r holds stages r and PP-1-r, half the micro-batches enter at each end) or DualPipe-V
    /// (PP/2 devices, device d holds stages d and PP-1-d of one V-shaped pipeline).
    static func dualPipe(stages: Int, microBatches: Int, variant: PipelineScheduleKind) throws -> PipelineSchedule {
        let isV = variant == .dualPipeV
        let name = variant.description
        try checkDualPipeSizes(name, stages: stages, microBatches: microBatches, needsEvenMicroBatches: !isV)
        let half = stages / 2
        let deviceCount = isV ? half : stages
        let chunksPerPhase = isV ? microBatches : microBatches / 2
        let stageDevices =
            isV
            ? [(0..<stages).map { min($0, stages - 1 - $0) }]
            : [Array(0..<stages), Array((0..<stages).reversed())]
        var builder = ScheduleBuilder(
            name: name, stageDevices: stageDevices, microBatchesPerDirection: chunksPerPhase, deviceCount: deviceCount)
        for device in 0..<deviceCount {
            let halfRank = min(device, stages - 1 - device)
            let near: PipelineDirection = isV || device < half ? .down : .up
            let far: PipelineDirection = isV || device >= half ? .down : .up
            var program = DualPipeRankProgram(
                builder: builder, device: device, halfRank: halfRank, halfRankCount: half,
                chunksPerPhase: chunksPerPhase,
                phases: [(halfRank, near), (stages - 1 - halfRank, far)])
            program.run()
            builder = program.builder
        }
        return builder.schedule
    }

    /// DualPipe needs PP even, m even and m >= 2 PP; DualPipe-V needs PP even and m >= PP (2 per device).
    private static func checkDualPipeSizes(_ name: String, stages: Int, microBatches: Int, needsEvenMicroBatches: Bool)
        throws
    {
        guard stages >= 2 else { throw PipelineScheduleError.tooFewStages(schedule: name, stages: stages, minimum: 2) }
        guard stages % 2 == 0 else { throw PipelineScheduleError.oddStageCount(schedule: name, stages: stages) }
        if needsEvenMicroBatches && microBatches % 2 != 0 {
            throw PipelineScheduleError.oddMicroBatchCount(schedule: name, microBatches: microBatches)
        }
        let minimum = needsEvenMicroBatches ? 2 * stages : stages
        guard microBatches >= minimum else {
            throw PipelineScheduleError.tooFewMicroBatches(schedule: name, microBatches: microBatches, minimum: minimum)
        }
    }
}
