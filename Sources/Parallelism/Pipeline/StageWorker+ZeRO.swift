import Collectives
import MoEModel
import Tensors

/// ZeRO-1 over the data-parallel group of a pipeline rank (the composed PP × DP trainer).
extension StageWorker {
    /// For every stage copy in order: reduce-scatter its summed gradient over the DP group (BF16 on the wire),
    /// scale to the global batch's mean, AdamW on the owned shard, all-gather the updated shards.
    func zeroOneStep(_ dataParallel: StageDataParallel) async throws {
        let scale = 1 / Float(schedule.microBatchCount * dataParallel.size)
        let rank = dataParallel.dataIndex
        for index in replicas.indices {
            let replica = replicas[index]
            let count = replica.parameterCount
            let counts = CollectivePlan.evenSplit(count, into: dataParallel.size)
            let gradient =
                replica.isPhantom
                ? try Tensor(phantom: [count], dtype: .bf16)
                : try Tensor(shape: [count], values: replica.gradients.flattened(), dtype: .bf16)
            let summed = try await dataParallel.runner(copy: index, phase: 0).reduceScatter(
                gradient, rank: rank, blockCounts: counts)
            let shard = dataParallel.shard(of: count)
            var mine: Tensor
            if replica.isPhantom {
                mine = try Tensor(phantom: [shard.count], dtype: .bf16)
            } else {
                var flat = try replica.parameters.flattened()
                let owned = try summed.scaled(by: scale).scalars()
                try replicas[index].optimizer.step(parameters: &flat[shard], gradients: owned[...])
                mine = try Tensor(shape: [shard.count], values: Array(flat[shard]), dtype: .bf16)
            }
            try await compute.chargeOptimizer(parameterCount: shard.count, on: gpu)
            let gathered = try await dataParallel.runner(copy: index, phase: 1).allGather(
                mine, rank: rank, elementCounts: counts)
            guard !replica.isPhantom else { continue }
            replicas[index].parameters = try replica.parameters.unflattened(try gathered.scalars())
            replicas[index].gradients = try replica.gradients.zeros()
        }
    }
}
