import MoEModel
import Tensors

/// The end of a worker's step: DualPipe's mirrored copies sum their gradients, then AdamW per copy.
extension StageWorker {
    /// Sums mirrored gradients (DualPipe), averages over the step's micro-batches, runs AdamW on every copy
    /// and clears the gradients.
    func finishStep() async throws {
        try await sumMirroredGradients()
        await openInterval()
        try await updateParameters()
        await closeInterval(.update)
    }

    /// ZeRO-1 over the DP group, or AdamW on every copy's whole gradient.
    private func updateParameters() async throws {
        if let dataParallel {
            try await zeroOneStep(dataParallel)
            return
        }
        let scale = 1 / Float(schedule.microBatchCount)
        for index in replicas.indices where !replicas[index].isPhantom {
            var flat = try replicas[index].parameters.flattened()
            let gradients = try replicas[index].gradients.scaled(by: scale).flattened()
            try replicas[index].optimizer.step(parameters: &flat[...], gradients: gradients[...])
            replicas[index].parameters = try replicas[index].parameters.unflattened(flat)
            replicas[index].gradients = try replicas[index].gradients.zeros()
        }
        try await compute.chargeOptimizer(
            parameterCount: replicas.reduce(0) { $0 + $1.parameterCount }, on: gpu)
    }

    /// For a two-direction schedule, each stage's two copies (on ranks r and PP−1−r) exchange their summed
    /// gradients and both add them as down + up, so both copies stay bit-identical, as DualPipe's example sums
    /// the two copies' gradients before the optimizer.
    private func sumMirroredGradients() async throws {
        guard schedule.directions.count == 2 else { return }
        for index in replicas.indices { try await sendMirroredGradients(of: index) }
        for index in replicas.indices { try await addMirroredGradients(into: index, accounted: true) }
    }

    /// Posts copy `index`'s summed gradients to its mirror copy (DP communication while the SMs are idle).
    func sendMirroredGradients(of index: Int) async throws {
        let replica = replicas[index]
        let partner = try mirrorRank(of: replica)
        let flat =
            replica.isPhantom
            ? try Tensor(phantom: [replica.parameterCount])
            : try Tensor(shape: [replica.gradients.elementCount], values: replica.gradients.flattened())
        await openInterval()
        try await transport.send(
            flat, from: rank, to: partner,
            tag: tags.gradientExchangeTag(stage: replica.stageIndex, direction: replica.direction),
            label: "gradients of stage \(replica.stageIndex) \(replica.direction)")
        await closeInterval(.send(communication: .dpCommunication))
    }

    /// Receives the mirror copy's gradients and makes copy `index`'s down + up; `accounted`: the wait is a
    /// step interval (false under `zero-overlap`, where the worker's own intervals go on meanwhile).
    func addMirroredGradients(into index: Int, accounted: Bool) async throws {
        let replica = replicas[index]
        let other: PipelineDirection = replica.direction == .down ? .up : .down
        let partner = try mirrorRank(of: replica)
        if accounted { await openInterval() }
        let received = try await transport.receiveMessage(
            from: partner, to: rank, tag: tags.gradientExchangeTag(stage: replica.stageIndex, direction: other),
            label: "gradients of stage \(replica.stageIndex) \(other)")
        if accounted { await closeInterval(.wait(sentAt: received.sentAt, communication: .dpCommunication)) }
        guard !replica.isPhantom else { return }
        // Read the copy again: under `zero-overlap` other ops ran while this one waited.
        let gradients = replicas[index].gradients
        let theirs = try gradients.unflattened(received.tensor.scalars())
        let (down, up) = replica.direction == .down ? (gradients, theirs) : (theirs, gradients)
        var sum = ParameterSet()
        for (mine, mirrored) in zip(down.entries, up.entries) {
            try sum.append(mine.name, mine.tensor.adding(mirrored.tensor))
        }
        replicas[index].gradients = sum
    }

    private func mirrorRank(of replica: StageReplica) throws -> Int {
        let other: PipelineDirection = replica.direction == .down ? .up : .down
        return try schedule.device(of: PipelineChunk(stage: replica.stageIndex, microBatch: 0, direction: other))
    }
}
