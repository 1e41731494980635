/// The part of one chunk's training work that a compute op performs.
struct ChunkWork: Hashable, CustomStringConvertible {
    /// Forward, input backward or weight backward.
    enum Role: Hashable { case forward, backward, weight }

    var role: Role
    var chunk: PipelineChunk

    var description: String {
        switch role {
        case .forward: "F(\(chunk))"
        case .backward: "B(\(chunk))"
        case .weight: "W(\(chunk))"
        }
    }
}

extension PipelineOp.Kind {
    /// The chunk work this op performs (a BW is B and W of one chunk; an F&B is F of one and B, W of another).
    var work: [ChunkWork] {
        switch self {
        case .forward(let c): [ChunkWork(role: .forward, chunk: c)]
        case .backwardInput(let c): [ChunkWork(role: .backward, chunk: c)]
        case .backwardWeight(let c): [ChunkWork(role: .weight, chunk: c)]
        case .backwardFull(let c): [ChunkWork(role: .backward, chunk: c), ChunkWork(role: .weight, chunk: c)]
        case .forwardBackward(let f, let b):
            [
                ChunkWork(role: .forward, chunk: f), ChunkWork(role: .backward, chunk: b),
                ChunkWork(role: .weight, chunk: b),
            ]
        case .send, .receive: []
        }
    }
}

extension PipelineSchedule {
    /// The work that must finish before `work` can start.
    func inputs(of work: ChunkWork) -> [ChunkWork] {
        let chunk = work.chunk
        switch work.role {
        case .forward:
            return chunk.stage > 0 ? [ChunkWork(role: .forward, chunk: chunk.previous)] : []
        case .backward:
            let own = ChunkWork(role: .forward, chunk: chunk)
            return chunk.stage < stageCount - 1 ? [own, ChunkWork(role: .backward, chunk: chunk.next)] : [own]
        case .weight:
            return [ChunkWork(role: .backward, chunk: chunk)]
        }
    }

    /// The message that carries `work`'s result to another stage, if that stage is on another device.
    func remoteOutput(of work: ChunkWork) -> PipelineTransfer? {
        let transfer: PipelineTransfer
        switch work.role {
        case .forward where work.chunk.stage < stageCount - 1: transfer = PipelineTransfer(.activation, of: work.chunk)
        case .backward where work.chunk.stage > 0: transfer = PipelineTransfer(.gradient, of: work.chunk)
        default: return nil
        }
        return placement(of: transfer.consumer) == placement(of: work.chunk) ? nil : transfer
    }

    /// The messages `op` needs from other devices before it can start.
    func remoteInputs(of op: PipelineOp) -> [PipelineTransfer] {
        op.kind.work.flatMap { work in
            inputs(of: work).compactMap { remoteOutput(of: $0) }.filter { $0.consumer == work.chunk }
        }
    }

    /// The messages `op` produces for other devices.
    func remoteOutputs(of op: PipelineOp) -> [PipelineTransfer] {
        op.kind.work.compactMap { remoteOutput(of: $0) }
    }
}
