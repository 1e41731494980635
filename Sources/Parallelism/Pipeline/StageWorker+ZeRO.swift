import Collectives
import MoEModel
import Tensors

/// ZeRO-1 over the data-parallel groups of a pipeline rank (the composed trainer): a copy's non-expert
/// parameters over its DP group (DP_total), an expert-parallel copy's routed experts over its expert-DP group
/// (DP_replica; a local AdamW step when DP_replica = 1).
extension StageWorker {
    /// One part of a copy's parameters with its own optimizer and group.
    private struct ZeROPart {
        /// Entries of the copy's parameters (empty in phantom runs).
        var entries: [Int]
        /// Elements of the part (in phantom runs too).
        var count: Int
        /// The group it is sharded over; nil: not sharded.
        var group: StageDataParallel?
        var optimizer: WritableKeyPath<StageReplica, AdamW?>
        /// The tag slot of its collectives.
        var copy: Int
    }

    /// For every stage copy in order and each of its parts: reduce-scatter its summed gradient over the part's
    /// group (BF16 on the wire), scale to the global batch's mean, AdamW on the owned shard, all-gather the
    /// updated shards.
    func zeroOneStep(_ dataParallel: StageDataParallel) async throws {
        for index in replicas.indices { try await zeroOneStep(copy: index, dataParallel) }
    }

    /// ZeRO-1 of copy `index` alone (its parts in order), then its gradients cleared: after the schedule, or as
    /// soon as its gradients are final (`zero-overlap`, `StageWorker+ZeROOverlap.swift`).
    func zeroOneStep(copy index: Int, _ dataParallel: StageDataParallel) async throws {
        let scale = 1 / Float(schedule.microBatchCount * dataParallel.size)
        for part in zeroParts(of: index, dataParallel: dataParallel) {
            try await update(part, of: index, scale: scale)
        }
        if !replicas[index].isPhantom { replicas[index].gradients = try replicas[index].gradients.zeros() }
    }

    /// The parameters whose optimizer state this worker holds: its shard of every part of every copy.
    var ownedParameterCount: Int {
        replicas.indices.reduce(0) { total, index in
            guard let dataParallel else { return total + replicas[index].parameterCount }
            return total
                + zeroParts(of: index, dataParallel: dataParallel).reduce(0) {
                    $0 + ($1.group?.shard(of: $1.count).count ?? $1.count)
                }
        }
    }

    private func zeroParts(of index: Int, dataParallel: StageDataParallel) -> [ZeROPart] {
        let replica = replicas[index]
        let experts = replica.expertParallel
        let expertCount = experts?.expertParameterCount ?? 0
        let dense = ZeROPart(
            entries: replica.isPhantom ? [] : replica.denseEntries, count: replica.parameterCount - expertCount,
            group: dataParallel, optimizer: \.optimizerSlot, copy: index)
        guard let experts else { return [dense] }
        let expertPart = ZeROPart(
            entries: experts.expertEntries, count: expertCount, group: experts.expertData,
            optimizer: \.expertOptimizer, copy: replicas.count + index)
        return [dense, expertPart]
    }

    private func update(_ part: ZeROPart, of index: Int, scale: Float) async throws {
        let replica = replicas[index]
        let group = part.group
        let counts = CollectivePlan.evenSplit(part.count, into: group?.size ?? 1)
        var gradient =
            replica.isPhantom
            ? try Tensor(phantom: [part.count], dtype: .bf16)
            : try Tensor(shape: [part.count], values: replica.gradients.flattened(entries: part.entries), dtype: .bf16)
        if let group {
            gradient = try await group.runner(copy: part.copy, phase: 0).reduceScatter(
                gradient, rank: group.dataIndex, blockCounts: counts)
        }
        let shard = group?.shard(of: part.count) ?? 0..<part.count
        var mine = try Tensor(phantom: [shard.count], dtype: .bf16)
        if !replica.isPhantom, var optimizer = replica[keyPath: part.optimizer] {
            var flat = try replica.parameters.flattened(entries: part.entries)
            let owned = try gradient.scaled(by: scale).scalars()
            try optimizer.step(parameters: &flat[shard], gradients: owned[...])
            replicas[index][keyPath: part.optimizer] = optimizer
            mine = try Tensor(shape: [shard.count], values: Array(flat[shard]), dtype: .bf16)
        }
        if let kernel = try await compute.chargeOptimizer(parameterCount: shard.count, on: gpu) {
            optimizerKernels.append(kernel)
        }
        guard let group else {
            if !replica.isPhantom {
                replicas[index].parameters = try replica.parameters.unflattened(
                    try mine.scalars(), entries: part.entries)
            }
            return
        }
        let gathered = try await group.runner(copy: part.copy, phase: 1).allGather(
            mine, rank: group.dataIndex, elementCounts: counts)
        guard !replica.isPhantom else { return }
        replicas[index].parameters = try replica.parameters.unflattened(
            try gathered.scalars(), entries: part.entries)
    }
}
