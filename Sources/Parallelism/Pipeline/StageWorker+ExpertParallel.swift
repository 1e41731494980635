import Hardware
import MoEModel
import Tensors

/// F and B of a stage copy whose MoE layers run across its EP group: layer by layer, the attention half (and a
/// dense FFN) on this GPU's compute SMs, then the MoE FFN as one call of the expert-parallel layer, which every
/// rank of the group makes at once. Time is charged as the layers run, not after the op.
extension StageWorker {
    /// F of `chunk` on copy `index`: keeps the cache and hands the activation on (or records the loss).
    func forwardExpertParallel(_ chunk: PipelineChunk, copy index: Int, label: String) async throws {
        let replica = replicas[index]
        guard let expertParallel = replica.expertParallel else { return }
        let input = chunk.stage > 0 ? try take(PipelineTransfer(.activation, of: chunk.previous), for: "F") : nil
        let batch = try data.map { try $0.batch(step: step, chunk: chunk, schedule: schedule) }
        let stage = replica.stage
        var cache = StageExpertParallel.ChunkCache()
        var hidden = try Tensor(phantom: activationShape)
        if let stage, let batch {
            hidden = try stage.stageInput(input, batch: batch, parameters: replica.parameters)
            cache.tokens = stage.isFirst ? batch.tokens : nil
        }
        for (offset, layer) in replica.layers.enumerated() {
            let half = try stage.map {
                try $0.blocks[offset].forwardAttention(
                    hidden, sequenceLength: batch?.sequenceLength ?? 1, parameters: replica.parameters)
            }
            try await compute.run(compute.localKernels(.forward, layer: layer, label: label), on: gpu)
            var block = StageExpertParallel.ChunkCache.Block(attention: half?.cache)
            let ffnInput = try half?.ffnInput ?? Tensor(phantom: activationShape)
            var ffnOutput: Tensor?
            if let layerEP = expertParallel.layers[offset] {
                let result = try await layerEP.forward(
                    rank: expertParallel.rank, input: ffnInput, parameters: replica.parameters,
                    tagBase: expertParallel.tagBase(chunk: chunk, layerOffset: offset, schedule: schedule))
                block.expert = result.cache
                ffnOutput = result.output
            } else if case .dense(let dense)? = stage?.blocks[offset].feedForward {
                let result = try dense.forward(ffnInput, parameters: replica.parameters)
                block.dense = result.cache
                ffnOutput = result.output
            }
            cache.blocks.append(block)
            if let half, let ffnOutput { hidden = try half.output(adding: ffnOutput) }
        }
        try await finishForward(chunk, hidden: hidden, batch: batch, copy: index, cache: &cache, label: label)
        expertCaches[chunk] = cache
    }

    /// The head and loss on the last stage (charged), or the activation handed to the next stage.
    private func finishForward(
        _ chunk: PipelineChunk, hidden: Tensor, batch: TokenBatch?, copy index: Int,
        cache: inout StageExpertParallel.ChunkCache, label: String
    ) async throws {
        let replica = replicas[index]
        guard chunk.stage == schedule.stageCount - 1 else {
            hand(hidden, as: PipelineTransfer(.activation, of: chunk))
            return
        }
        try await compute.run(compute.headKernels(.forward, layers: replica.layers, label: label), on: gpu)
        guard let head = replica.stage?.head, let batch else { return }
        let (loss, headCache) = try head.forward(hidden, targets: batch.targets, parameters: replica.parameters)
        cache.head = headCache
        losses.append((data?.globalIndex(of: chunk, schedule: schedule) ?? 0, loss))
    }

    /// B of `chunk` on copy `index`: the input gradient handed to the previous stage; returns the W tasks and
    /// the EP layers' deferred W work. `weightsNow` runs each layer's W right after its B (F&B
    /// cells, as DeepSeek's profile shows: MLP W after the MLP's backward, attention W after attention's), and
    /// the work returned is empty.
    func backwardExpertParallel(
        _ chunk: PipelineChunk, copy index: Int, label: String, weightsNow: Bool
    ) async throws -> (tasks: [WeightGradientTask], expertWeights: EPWeightWork) {
        let replica = replicas[index]
        guard let expertParallel = replica.expertParallel else { return ([], EPWeightWork()) }
        guard let cache = expertCaches.removeValue(forKey: chunk) else {
            throw PipelineError.brokenSchedule("B(\(chunk)) on rank \(rank) before its F")
        }
        var tasks: [WeightGradientTask] = []
        var expertWeights = EPWeightWork()
        var gradient = try Tensor(phantom: activationShape)
        if chunk.stage == schedule.stageCount - 1 {
            if let head = replica.stage?.head, let headCache = cache.head {
                let result = try head.backwardInput(cache: headCache, parameters: replica.parameters)
                gradient = result.inputGradient
                tasks += result.weightTasks
            }
            try await compute.run(compute.headKernels(.backwardInput, layers: replica.layers, label: label), on: gpu)
            if weightsNow {
                try await compute.run(
                    compute.headKernels(.backwardWeight, layers: replica.layers, label: label), on: gpu)
            }
        } else {
            gradient = try take(PipelineTransfer(.gradient, of: chunk.next), for: "B")
        }
        for (offset, layer) in replica.layers.enumerated().reversed() {
            let block = cache.blocks[offset]
            var ffn: InputBackward?
            if let layerEP = expertParallel.layers[offset], let expertCache = block.expert {
                let result = try await layerEP.backward(
                    rank: expertParallel.rank, outputGradient: gradient, cache: expertCache,
                    parameters: replica.parameters,
                    tagBase: expertParallel.tagBase(chunk: chunk, layerOffset: offset, schedule: schedule),
                    weightsNow: weightsNow)
                ffn = result.input
                expertWeights = expertWeights + result.weightWork
            } else if case .dense(let dense)? = replica.stage?.blocks[offset].feedForward, let denseCache = block.dense
            {
                ffn = try dense.backwardInput(gradient, cache: denseCache, parameters: replica.parameters)
            }
            try await compute.run(compute.localKernels(.backwardInput, layer: layer, label: label), on: gpu)
            if weightsNow {
                try await compute.run(compute.localKernels(.backwardWeight, layer: layer, label: label), on: gpu)
            }
            if let stage = replica.stage, let ffn, let attention = block.attention {
                let result = try stage.blocks[offset].backwardAttention(
                    gradient, feedForward: ffn, cache: attention, parameters: replica.parameters)
                gradient = result.inputGradient
                tasks += result.weightTasks
            }
        }
        if let stage = replica.stage, stage.isFirst, let tokens = cache.tokens {
            tasks.append(stage.embeddingTask(tokens: tokens, outputGradient: gradient))
        } else if chunk.stage > 0 {
            hand(gradient, as: PipelineTransfer(.gradient, of: chunk))
        }
        return (tasks, expertWeights)
    }

    /// W of an expert-parallel copy: the local layers' W kernels and the EP layers' deferred W work.
    func chargeWeightsExpertParallel(copy index: Int, expertWeights: EPWeightWork, label: String) async throws {
        for layer in replicas[index].layers {
            try await compute.run(compute.localKernels(.backwardWeight, layer: layer, label: label), on: gpu)
        }
        try await compute.run(
            compute.headKernels(.backwardWeight, layers: replicas[index].layers, label: label), on: gpu)
        try await compute.run(expertWeights.kernels(name: "\(label) W experts"), on: gpu)
    }
}
