import SimCore

/// `replicas=once`: the DP replicas of an EP group other than the first are emulated once. Their GPUs (shadows)
/// run no schedule op; each follows its twin, the same EP and pipeline rank of replica 0, which does the same
/// work on the same routing (phantom runs route by EP rank), and runs only what the replicas share: DualPipe's
/// mirror exchange and ZeRO-1 over the dense DP group and the expert-DP group, started when the twin's are.
///
/// The twin posts each copy as its gradients become final (`zero-overlap=on`) and nil when its schedule ends.
/// What the shadow leaves out is its own EP, pipeline and compute traffic, so its links carry only ZeRO-1: the
/// error this makes is measured against the full emulation (docs/ARCHITECTURE.md). Its step report is its
/// twin's (`PipelineTrainer.report`).
extension StageWorker {
    /// Tells the shadows that copy `copy`'s gradients are final (nil: the schedule ended).
    func notifyShadows(_ copy: Int?) async {
        for shadow in shadows { await shadow.send(copy) }
    }

    /// A shadow's step: what its twin posts, through the same lane or end-of-step ZeRO-1 as the twin's.
    func runShadowStep(following twin: Mailbox<Int?>) async throws {
        guard overlapsZeRO, let dataParallel else {
            while await twin.receive() != nil {}
            let finishStart = simulation.now
            try await finishStep()
            await recordStepAccounting(optimizer: finishStart..<simulation.now)
            return
        }
        let ready = Mailbox<Int?>("ZeRO-1 lane of \(gpu.name)", in: simulation)
        async let lane: Void = runZeROLane(ready, dataParallel)
        do {
            while let copy = await twin.receive() { try await gradientsFinal(copy, lane: ready) }
        } catch {
            await ready.send(nil)
            try? await lane
            throw error
        }
        let finishStart = simulation.now
        try await lane
        await recordStepAccounting(optimizer: finishStart..<simulation.now)
    }
}
