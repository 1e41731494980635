import SimCore

/// `zero-overlap=on`: each copy's ZeRO-1 (reduce-scatter, AdamW on the shard, all-gather) starts as soon as the
/// copy's gradients are final — after its last W, and for DualPipe once its mirror copy's gradients are added —
/// while the schedule's remaining ops run, as production trainers start a bucket's reduce-scatter once its
/// gradients are ready.
///
/// The copies go through one lane per worker, in the order the schedule finishes them (the op index of each
/// copy's last W, ties by copy index): every member of a DP or expert-DP group runs the same op list, so each
/// group's collectives start in the same order with the same tags on every member, and each copy's reduction
/// is the one `zeroOneStep` runs after the schedule (the numbers are identical). The worker's step intervals go
/// on as the schedule's; the wait for the lane after the last op is the step's `update` interval, so only the
/// DP time that sticks out past the schedule is exposed. AdamW kernels that ran on the compute SMs before that
/// are moved from compute to the optimizer part at the step's end (`recordStepAccounting`).
extension StageWorker {
    /// For each op of the rank's list, the copies whose gradients are final once it ends (each copy once).
    var copiesFinal: [[Int]] {
        let ops = schedule.devices[rank]
        var last = [Int](repeating: -1, count: replicas.count)
        for (index, op) in ops.enumerated() {
            for work in op.kind.work where work.role == .weight {
                if let copy = replicas.firstIndex(where: { $0.runs(work.chunk) }) { last[copy] = index }
            }
        }
        var result = [[Int]](repeating: [], count: ops.count)
        for (copy, index) in last.enumerated() where index >= 0 { result[index].append(copy) }
        // A copy without a W in the list (none in a valid schedule) is final once the list ends.
        if let end = result.indices.last { result[end] += last.indices.filter { last[$0] < 0 } }
        return result
    }

    /// One step with ZeRO-1 overlapped: the op list, each finished copy handed to the lane at once, then the wait
    /// for the lane (the step's `update` interval).
    func runOverlappedStep(_ dataParallel: StageDataParallel) async throws {
        let ready = Mailbox<Int?>("ZeRO-1 lane of \(gpu.name)", in: simulation)
        async let lane: Void = runZeROLane(ready, dataParallel)
        do {
            let finals = copiesFinal
            for (index, op) in schedule.devices[rank].enumerated() {
                try await run(op)
                for copy in finals[index] {
                    try await gradientsFinal(copy, lane: ready)
                    await notifyShadows(copy)
                }
            }
            try await endSchedule()
            await notifyShadows(nil)
        } catch {
            // Let the lane (and the shadows) end instead of waiting for copies that will not come.
            await notifyShadows(nil)
            await ready.send(nil)
            try? await lane
            throw error
        }
        let finishStart = simulation.now
        await openInterval()
        try await lane
        await closeInterval(.update)
        await recordStepAccounting(optimizer: finishStart..<simulation.now)
    }

    /// Copy `copy`'s own gradients are final: DualPipe posts them to the mirror copy now (the sends never wait),
    /// then the lane takes the copy.
    func gradientsFinal(_ copy: Int, lane: Mailbox<Int?>) async throws {
        if schedule.directions.count == 2 { try await sendMirroredGradients(of: copy) }
        await lane.send(copy)
    }

    /// Takes the copies in the order they were handed over: adds the mirror's gradients (DualPipe), then ZeRO-1.
    func runZeROLane(_ ready: Mailbox<Int?>, _ dataParallel: StageDataParallel) async throws {
        for _ in replicas.indices {
            guard let copy = await ready.receive() else { return }
            if schedule.directions.count == 2 { try await addMirroredGradients(into: copy, accounted: false) }
            try await zeroOneStep(copy: copy, dataParallel)
        }
    }

    /// The AdamW kernel time that ran on the compute SMs before `instant` (this step's kernels).
    func optimizerBusy(before instant: SimInstant) -> SimDuration {
        optimizerKernels.reduce(SimDuration.zero) { total, kernel in
            let end = min(kernel.upperBound, instant)
            return end > kernel.lowerBound ? total + (end - kernel.lowerBound) : total
        }
    }
}
