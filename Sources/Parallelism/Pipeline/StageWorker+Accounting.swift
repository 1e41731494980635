import Hardware
import SimCore

/// The hooks that feed a worker's `StepAccounting`: `openInterval()` before, `closeInterval(_:)` after each
/// thing in the step that takes time, and the step's record at its end.
extension StageWorker {
    /// The worker's index in the trainer's GPU order (p·DP + d).
    var gpuIndex: Int { rank * (dataParallel?.size ?? 1) + (dataParallel?.dataIndex ?? 0) }

    /// Starts step accounting now; HBM peaks start afresh from what is allocated, so they are this step's.
    func beginStepAccounting() async {
        accounting = StepAccounting(start: simulation.now)
        await gpu.resetMemoryPeaks()
    }

    /// Opens an accounted interval now.
    func openInterval() async {
        let now = simulation.now
        accounting.open(at: now, executedBusy: await gpu.compute.executedBusyTime(by: now))
    }

    /// Closes the open interval now as `interval`.
    func closeInterval(_ interval: StepAccounting.Interval) async {
        let now = simulation.now
        accounting.close(interval, at: now, executedBusy: await gpu.compute.executedBusyTime(by: now))
    }

    /// A compute op's interval kind under this worker's costs.
    var computeInterval: StepAccounting.Interval {
        if case .unit = compute.costs { return .compute(unitCost: true) }
        return .compute(unitCost: false)
    }

    /// Hands the step's accounting, its schedule phases (`optimizer`: the step's end after the last op) and this
    /// step's HBM peaks to the recorder.
    func recordStepAccounting(optimizer: Range<SimInstant>) async {
        // Under `zero-overlap` AdamW kernels ran among the schedule's ops: compute busy time of theirs.
        accounting.reassignToOptimizer(optimizerBusy(before: optimizer.lowerBound))
        let hbm = await gpu.hbm
        let measured = zip(computePhases, spans).map { phase, span in
            (phase: phase, start: stepStart + (span.start - .start), end: stepStart + (span.end - .start))
        }
        let phases = SchedulePhaseBreakdown.measured(
            spans: measured, optimizer: optimizer, stepStart: stepStart, stepEnd: optimizer.upperBound)
        await recorder.recordAccounting(
            step: step, gpu: gpuIndex,
            record: PipelineRecorder.GPURecord(
                accounting: accounting, peakBytesByKind: GPUStepReport.peaks(of: hbm), peakBytes: hbm.peakBytes,
                capacityBytes: hbm.capacityBytes, schedulePhases: phases, end: optimizer.upperBound))
    }
}
