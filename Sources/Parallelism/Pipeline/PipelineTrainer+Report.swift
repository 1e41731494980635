import Hardware
import MoEModel
import SimCore

extension PipelineTrainer {
    /// The finished run: read it once every worker has passed the last step's barrier, either from rank 0's
    /// process (as `start`'s `onFinish` does) or between drives after the simulation has run to the end.
    public func report() throws -> PipelineRunReport {
        let records = simulation.inspect(recorder) { $0.steps }
        let releases = simulation.inspect(barrier) { $0.releaseTimes }
        guard records.count == training.steps, releases.count == training.steps + 1 else {
            throw PipelineError.invalidSetup(
                "the run has not finished: \(records.count) of \(training.steps) steps recorded")
        }
        let steps = try records.enumerated().map { index, record in
            try step(record, from: releases[index], to: releases[index + 1])
        }
        let copies = workers.flatMap { worker in simulation.inspect(worker) { $0.stageParameters() } }
        var parameters = ParameterSet()
        var copiesAgree = true
        for stage in 0..<schedule.stageCount {
            let stageCopies = copies.filter { $0.stage == stage }.sorted {
                $0.direction.rawValue < $1.direction.rawValue
            }
            guard !stageCopies.isEmpty else {
                throw PipelineError.invalidSetup("stage \(stage) has no copy on any worker")
            }
            // Phantom copies hold no values.
            guard stageCopies.contains(where: { $0.parameters.elementCount > 0 }) else { continue }
            // Each name from the first copy holding it (an expert-parallel copy holds its EP rank's experts only);
            // every other copy holding it must agree.
            for entry in try ModelStage(config: config, layers: stageLayers[stage]).parameterShapes {
                let holders = stageCopies.filter { $0.parameters.contains(entry.name) }
                guard let first = holders.first else {
                    throw PipelineError.invalidSetup("no copy of stage \(stage) holds \(entry.name)")
                }
                let tensor = try first.parameters.tensor(entry.name)
                copiesAgree = try copiesAgree && holders.allSatisfy { try $0.parameters.tensor(entry.name) == tensor }
                try parameters.append(entry.name, tensor)
            }
        }
        return PipelineRunReport(
            steps: steps, parameters: parameters, copiesAgree: copiesAgree,
            peakActivationBytes: gpus.indices.map { index in
                simulation.inspect(gpus[reportedIndex(of: index)]) { $0.hbm.peakBytes(.activations) }
            },
            activationBytesPerMicroBatch: workers.map { worker in
                simulation.inspect(worker) { $0.replicas.map(\.activationBytes) }
            })
    }

    private func step(_ record: PipelineRecorder.StepRecord, from start: SimInstant, to end: SimInstant) throws
        -> PipelineRunReport.Step
    {
        let stepTime = end - start
        let spans = record.spans
        let makespan = spans.joined().map { $0.end - .start }.max() ?? .zero
        let busy = spans.map { $0.reduce(SimDuration.zero) { $0 + ($1.end - $1.start) } }
        let idle = busy.map { makespan - $0 }
        let timeline = ScheduleAnalysis(
            spans: spans, makespan: makespan, busyTime: busy, idleTime: idle, bubble: idle.max() ?? .zero,
            peakActivations: schedule.devices.map(PipelineSchedule.peakActivations),
            parameterCopies: schedule.devices.indices.map { schedule.parameterCopies(device: $0) })
        var loss: Float?
        if record.losses.allSatisfy({ $0 != nil }) {
            var sum: Float = 0
            for value in record.losses { sum += value ?? 0 }
            loss = sum * (1 / Float(record.losses.count))
        }
        let microBatches = Double(training.microBatchesPerStep)
        var report = StepReport(
            loss: loss, stepTime: stepTime, gpus: try gpuReports(record, from: start, to: end),
            modelFLOPs: modelFLOPsPerMicroBatch.map { $0 * microBatches },
            peakFLOPsPerSecondPerGPU: gpus.first?.spec.denseBF16FlopsPerSecond)
        report.phases = report.meanGPU?.phases ?? []
        // Unit costs time nothing on the GPUs: no throughput.
        report.tokens =
            modelFLOPsPerMicroBatch == nil
            ? nil : training.microBatchesPerStep * training.sequencesPerMicroBatch * training.sequenceLength
        report.fp8ModelFLOPs = fp8FLOPsPerMicroBatch.map { $0 * microBatches }
        report.fp8PeakFLOPsPerSecondPerGPU =
            fp8FLOPsPerMicroBatch == nil ? nil : gpus.first?.spec.denseFP8FlopsPerSecond
        report.scheduleName = schedule.name
        report.activations = activations
        report.zeroOverlap = dataParallel > 1 ? overlapsZeRO : nil
        return PipelineRunReport.Step(report: report, timeline: timeline)
    }

    /// The GPU whose step GPU `index` reports: its own, or a shadow's twin's (`replicas=once`).
    func reportedIndex(of index: Int) -> Int {
        index - (index % dataParallel) + (index % dataParallel) % emulatedDataIndices
    }

    /// Every GPU's accounting closed at the step's barrier releases: the parts add up to `end − start`.
    private func gpuReports(_ record: PipelineRecorder.StepRecord, from start: SimInstant, to end: SimInstant)
        throws -> [GPUStepReport]
    {
        try gpus.indices.map { index in
            // A shadow (`replicas=once`) reports its twin's step.
            guard let entry = record.gpus[reportedIndex(of: index)] else {
                throw PipelineError.invalidSetup("\(gpus[index].name) recorded no accounting for a finished step")
            }
            var phases = entry.schedulePhases
            phases[.bubble] = phases[.bubble] + (entry.accounting.start - start) + (end - entry.end)
            return GPUStepReport(
                gpuName: gpus[index].name, breakdown: entry.accounting.closed(stepStart: start, stepEnd: end),
                peakBytesByKind: entry.peakBytesByKind, peakBytes: entry.peakBytes, capacityBytes: entry.capacityBytes,
                schedulePhases: phases)
        }
    }
}
