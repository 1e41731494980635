import MoEModel

/// Which pass an op runs on which copy: the local passes (numerics now, time charged after the op) or the
/// expert-parallel ones (time charged as the layers run); DualPipe's F&B overlaps its two chunks.
extension StageWorker {
    /// Runs the numerics of `op`'s work; returns the parts whose time the caller still has to charge.
    func work(of op: PipelineOp, label: String) async throws -> [(StageCompute.Part, Range<Int>)] {
        switch op.kind {
        case .forward(let chunk): return try await runForward(chunk, label: label)
        case .backwardInput(let chunk): return try await runBackwardInput(chunk, label: label)
        case .backwardWeight(let chunk): return try await runBackwardWeight(chunk, label: label)
        case .backwardFull(let chunk): return try await runBackwardFull(chunk, label: label, weightsNow: false)
        case .forwardBackward(let forwardChunk, let backwardChunk):
            return try await runForwardBackward(forwardChunk, backwardChunk, label: label)
        case .send, .receive: return []
        }
    }

    private func isExpertParallel(_ chunk: PipelineChunk) throws -> Bool {
        replicas[try replicaIndex(of: chunk)].expertParallel != nil
    }

    private func runForward(_ chunk: PipelineChunk, label: String) async throws -> [(StageCompute.Part, Range<Int>)] {
        guard try isExpertParallel(chunk) else { return try forward(chunk) }
        try await forwardExpertParallel(chunk, copy: try replicaIndex(of: chunk), label: label)
        return []
    }

    private func runBackwardInput(
        _ chunk: PipelineChunk, label: String
    ) async throws -> [(StageCompute.Part, Range<Int>)] {
        guard try isExpertParallel(chunk) else { return try backwardInput(chunk) }
        let (tasks, work) = try await backwardExpertParallel(
            chunk, copy: try replicaIndex(of: chunk), label: label, weightsNow: false)
        weightQueue.append((chunk, tasks, work))
        return []
    }

    private func runBackwardWeight(
        _ chunk: PipelineChunk, label: String
    ) async throws -> [(StageCompute.Part, Range<Int>)] {
        guard try isExpertParallel(chunk) else { return try backwardWeight(chunk) }
        let work = weightQueue.first?.expertWeights ?? EPWeightWork()
        _ = try backwardWeight(chunk)
        try await chargeWeightsExpertParallel(copy: try replicaIndex(of: chunk), expertWeights: work, label: label)
        return []
    }

    /// B then W; `weightsNow` (F&B cells) runs each layer's W right after its B.
    private func runBackwardFull(
        _ chunk: PipelineChunk, label: String, weightsNow: Bool
    ) async throws -> [(StageCompute.Part, Range<Int>)] {
        guard try isExpertParallel(chunk) else { return try backwardFull(chunk) }
        let index = try replicaIndex(of: chunk)
        let (tasks, work) = try await backwardExpertParallel(chunk, copy: index, label: label, weightsNow: weightsNow)
        try accumulate(tasks, into: index)
        if !weightsNow { try await chargeWeightsExpertParallel(copy: index, expertWeights: work, label: label) }
        return []
    }

    /// F&B: with overlap on and both copies expert-parallel, the backward chunk and the forward chunk run at
    /// once (the backward starts first, with its combine's all-to-all, as in DeepSeek's profile), so each one's
    /// all-to-all runs while the other computes; otherwise F, then B and W.
    private func runForwardBackward(
        _ forwardChunk: PipelineChunk, _ backwardChunk: PipelineChunk, label: String
    ) async throws -> [(StageCompute.Part, Range<Int>)] {
        let expertParallel = try isExpertParallel(forwardChunk) && isExpertParallel(backwardChunk)
        guard expertParallel, overlapsChunks else {
            let forwardParts = try await runForward(forwardChunk, label: label)
            return try await forwardParts
                + runBackwardFull(backwardChunk, label: label, weightsNow: expertParallel)
        }
        async let backward = runBackwardFull(backwardChunk, label: label, weightsNow: true)
        async let forward = runForward(forwardChunk, label: label)
        let backwardParts = try await backward
        return try await forward + backwardParts
    }
}
