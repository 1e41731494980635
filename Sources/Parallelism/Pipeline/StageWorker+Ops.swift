import MoEModel
import Tensors

/// The op kinds of a stage worker, one method each: numerics now, time charged by the caller.
extension StageWorker {
    /// F: the chunk's stage forward; keeps the cache and hands the activation on (or records the loss).
    func forward(_ chunk: PipelineChunk) throws -> [(StageCompute.Part, Range<Int>)] {
        let index = try replicaIndex(of: chunk)
        let replica = replicas[index]
        let input = chunk.stage > 0 ? try take(PipelineTransfer(.activation, of: chunk.previous), for: "F") : nil
        guard let stage = replica.stage, let data else {
            caches[chunk] = ModelStage.Cache()
            if chunk.stage < schedule.stageCount - 1 {
                hand(try Tensor(phantom: activationShape), as: PipelineTransfer(.activation, of: chunk))
            }
            return [(.forward, replica.layers)]
        }
        let batch = try data.batch(step: step, chunk: chunk, schedule: schedule)
        let result = try stage.forward(input, batch: batch, parameters: replica.parameters)
        caches[chunk] = result.cache
        if let loss = result.cache.loss { losses.append((data.globalIndex(of: chunk, schedule: schedule), loss)) }
        if let output = result.output { hand(output, as: PipelineTransfer(.activation, of: chunk)) }
        return [(.forward, replica.layers)]
    }

    /// B: the input gradient, handed to the previous stage; the W tasks wait in the FIFO.
    func backwardInput(_ chunk: PipelineChunk) throws -> [(StageCompute.Part, Range<Int>)] {
        let (index, tasks) = try inputGradient(chunk)
        weightQueue.append((chunk, tasks, EPWeightWork()))
        return [(.backwardInput, replicas[index].layers)]
    }

    /// W: pops the oldest FIFO entry, which must be `chunk`'s, and accumulates its weight gradients.
    func backwardWeight(_ chunk: PipelineChunk) throws -> [(StageCompute.Part, Range<Int>)] {
        guard let oldest = weightQueue.first else {
            throw PipelineError.brokenSchedule("W(\(chunk)) on rank \(rank) with an empty W FIFO")
        }
        guard oldest.chunk == chunk else {
            throw PipelineError.brokenSchedule(
                "W(\(chunk)) on rank \(rank), but the W FIFO's oldest entry is \(oldest.chunk)")
        }
        weightQueue.removeFirst()
        let index = try replicaIndex(of: chunk)
        try accumulate(oldest.tasks, into: index)
        return [(.backwardWeight, replicas[index].layers)]
    }

    /// BW: B, then its W at once (the FIFO is not involved).
    func backwardFull(_ chunk: PipelineChunk) throws -> [(StageCompute.Part, Range<Int>)] {
        let (index, tasks) = try inputGradient(chunk)
        try accumulate(tasks, into: index)
        let layers = replicas[index].layers
        return [(.backwardInput, layers), (.backwardWeight, layers)]
    }

    /// Posts the message `transfer` to the device of its consumer (BF16 on the wire).
    func send(_ transfer: PipelineTransfer) async throws {
        guard let tensor = outbox.removeValue(forKey: transfer) else {
            throw PipelineError.brokenSchedule("rank \(rank) sends the \(transfer) before computing it")
        }
        let destination = try schedule.device(of: transfer.consumer)
        await openInterval()
        try await transport.send(
            tensor, from: rank, to: destination, tag: tags.tag(of: transfer), label: transfer.description)
        await closeInterval(.send(communication: .ppCommunication))
    }

    /// Waits for every receive posted since the last compute op, in posting order.
    func awaitPostedReceives() async throws {
        let posted = pendingReceives
        pendingReceives = []
        for transfer in posted {
            let source = try schedule.device(of: transfer.producer)
            await openInterval()
            let message = try await transport.receiveMessage(
                from: source, to: rank, tag: tags.tag(of: transfer), label: transfer.description)
            await closeInterval(.wait(sentAt: message.sentAt, communication: .ppCommunication))
            inbox[transfer] = message.tensor.withDType(.fp32)
        }
    }

    /// Charges one micro-batch's activations when an op's F starts.
    func allocateActivations(for op: PipelineOp) async throws {
        for chunk in op.kind.work.filter({ $0.role == .forward }).map(\.chunk) {
            try await gpu.allocate(replicas[try replicaIndex(of: chunk)].activationBytes, .activations)
        }
    }

    /// Frees them when the op that computes the chunk's weight gradients ends.
    func freeActivations(after op: PipelineOp) async throws {
        for chunk in op.kind.work.filter({ $0.role == .weight }).map(\.chunk) {
            try await gpu.free(replicas[try replicaIndex(of: chunk)].activationBytes, .activations)
        }
    }

    private func inputGradient(_ chunk: PipelineChunk) throws -> (Int, [WeightGradientTask]) {
        let index = try replicaIndex(of: chunk)
        guard let cache = caches.removeValue(forKey: chunk) else {
            throw PipelineError.brokenSchedule("B(\(chunk)) on rank \(rank) before its F")
        }
        let isLast = chunk.stage == schedule.stageCount - 1
        let outputGradient = isLast ? nil : try take(PipelineTransfer(.gradient, of: chunk.next), for: "B")
        let replica = replicas[index]
        guard let stage = replica.stage else {
            if chunk.stage > 0 {
                hand(try Tensor(phantom: activationShape), as: PipelineTransfer(.gradient, of: chunk))
            }
            return (index, [])
        }
        let result = try stage.backwardInput(outputGradient, cache: cache, parameters: replica.parameters)
        if let gradient = result.inputGradient { hand(gradient, as: PipelineTransfer(.gradient, of: chunk)) }
        return (index, result.weightTasks)
    }

    /// W's numerics: the tasks' gradients added into the copy's (nothing to add in phantom runs).
    func accumulate(_ tasks: [WeightGradientTask], into index: Int) throws {
        guard let stage = replicas[index].stage else { return }
        try stage.backwardWeight(tasks, into: &replicas[index].gradients)
    }

    /// Keeps `tensor` for a local consumer, or for the send op that will carry it (labelled BF16).
    func hand(_ tensor: Tensor, as transfer: PipelineTransfer) {
        if schedule.placement(of: transfer.consumer) == rank {
            inbox[transfer] = tensor
        } else {
            outbox[transfer] = tensor.withDType(.bf16)
        }
    }

    func take(_ transfer: PipelineTransfer, for label: String) throws -> Tensor {
        guard let tensor = inbox.removeValue(forKey: transfer) else {
            throw PipelineError.brokenSchedule(
                "\(label)(\(transfer.consumer)) on rank \(rank) needs the \(transfer), which was never received")
        }
        return tensor
    }

    func replicaIndex(of chunk: PipelineChunk) throws -> Int {
        guard let index = replicas.firstIndex(where: { $0.runs(chunk) }) else {
            throw PipelineError.brokenSchedule("rank \(rank) holds no copy of stage \(chunk.stage) for \(chunk)")
        }
        return index
    }
}
