import Tensors

/// The training step a model preset stands for, as its authors ran it: layout, batch, GEMM precisions,
/// communication SMs and optimizer state. A trainer takes these when a command leaves them out, and prints them.
///
/// DeepSeek-V3 (report arXiv 2412.19437, §3.2–3.3 and §4.2): PP16 × EP64 × DP_replica 2 on 2048 H800, sequences
/// of 4096 tokens, the batch ramped to 15360 sequences, FP8 GEMMs for the linear layers and experts (attention
/// core in BF16), 20 of 132 SMs for communication, AdamW moments in BF16, each token sent to at most 4 nodes.
///
/// Micro-batch rule: one sequence per micro-batch (4096 tokens, the tokens per rank of DeepSeek's EP settings:
/// DeepEP's normal-kernel benchmark and the published training profile), and
/// M = global batch / (DP_total × micro-batch sequences) micro-batches per pipeline and step:
/// 15360 / (128 × 1) = 120 for V3, which DualPipe accepts (even, ≥ 2 × PP = 32). Activations: recomputed RMSNorm
/// and MLA up-projections, FP8/E5M6 caching (`ActivationPolicy.deepseek`).
public struct TrainingStepDefaults: Sendable, Equatable {
    /// PP: pipeline stages.
    public var pipelineStages: Int
    /// EP: GPUs sharing one MoE layer's routed experts.
    public var expertParallel: Int
    /// DP_replica: copies of each expert shard.
    public var dataParallelReplicas: Int
    /// GPUs per node of the cluster the layout is meant for.
    public var gpusPerNode: Int
    /// Sequences in one optimizer step, over all data-parallel ranks.
    public var globalBatchSequences: Int
    /// Tokens per sequence.
    public var sequenceLength: Int
    /// Sequences in one micro-batch.
    public var sequencesPerMicroBatch: Int
    /// The GEMM input format of the linear layers (attention projections, dense FFN, experts, gate, head).
    public var linearDType: DType
    /// The format of the attention core (scores and the weighted sum of values).
    public var attentionCoreDType: DType
    /// SMs reserved for communication kernels on every GPU.
    public var communicationSMs: Int
    /// Whether AdamW keeps its moments in BF16 (optimizer state 8 bytes per parameter instead of 12).
    public var bf16Moments: Bool
    /// The ZeRO stage of the data-parallel groups.
    public var zeroStage: Int
    /// The node limit M of node-limited routing: a token goes to experts on at most this many nodes.
    public var nodeLimit: Int
    /// Which activations the step keeps and recomputes (DeepSeek-V3: `.deepseek`, §3.2.3 and §3.3.3).
    public var activations: ActivationPolicy = .deepseek

    /// DP_total = EP × DP_replica.
    public var dataParallel: Int { expertParallel * dataParallelReplicas }
    /// N = PP × DP_total.
    public var gpuCount: Int { pipelineStages * dataParallel }
    /// Nodes of the cluster the layout fills.
    public var nodeCount: Int { gpuCount / gpusPerNode }
    /// Nodes one EP group spans (at least 1).
    public var nodesPerExpertGroup: Int { max(1, expertParallel / gpusPerNode) }
    /// Tokens in one micro-batch.
    public var tokensPerMicroBatch: Int { sequencesPerMicroBatch * sequenceLength }
    /// Tokens in one optimizer step.
    public var tokensPerStep: Int { globalBatchSequences * sequenceLength }

    /// M for this layout's DP_total (120 for DeepSeek-V3).
    public var microBatches: Int { (try? microBatches(dataParallel: dataParallel)) ?? 0 }

    /// M = global batch / (DP_total × micro-batch sequences); throws naming the numbers when it is not whole.
    public func microBatches(dataParallel: Int) throws -> Int {
        let perStep = dataParallel * sequencesPerMicroBatch
        guard dataParallel >= 1, globalBatchSequences % perStep == 0 else {
            throw ModelError.invalidBatch(
                "a global batch of \(globalBatchSequences) sequences does not split into DP_total \(dataParallel) × "
                    + "\(sequencesPerMicroBatch) sequence(s) per micro-batch")
        }
        return globalBatchSequences / perStep
    }

    /// One line for help and plans, e.g. `PP16 × EP64 × DP_replica 2 (2048 GPUs), 15360 × 4096 tokens, …`.
    public var summary: String {
        "PP\(pipelineStages) × EP\(expertParallel) × DP_replica \(dataParallelReplicas) (\(gpuCount) GPUs, DP_total "
            + "\(dataParallel)), global batch \(globalBatchSequences) × \(sequenceLength) tokens, micro-batch "
            + "\(sequencesPerMicroBatch) sequence(s), M = \(microBatches), \(linearDType.rawValue) GEMMs with "
            + "\(attentionCoreDType.rawValue) attention core, \(communicationSMs) comm SMs, ZeRO-\(zeroStage) with "
            + "\(bf16Moments ? "BF16" : "FP32") AdamW moments, node limit \(nodeLimit), activations=\(activations.rawValue)"
    }

    /// DeepSeek-V3's pretraining step (numbers in the type's documentation).
    public static let deepSeekV3 = TrainingStepDefaults(
        pipelineStages: 16, expertParallel: 64, dataParallelReplicas: 2, gpusPerNode: 8, globalBatchSequences: 15360,
        sequenceLength: 4096, sequencesPerMicroBatch: 1, linearDType: .fp8e4m3, attentionCoreDType: .bf16,
        communicationSMs: 20, bf16Moments: true, zeroStage: 1, nodeLimit: 4)

    /// The same step on 128 GPUs (16 nodes): PP4 × EP16 × DP_replica 2, DP_total 32, M = 8 (2 × PP, DualPipe's
    /// least), so a global batch of 256 sequences; everything else as V3.
    public static let deepSeekV3Mini = TrainingStepDefaults(
        pipelineStages: 4, expertParallel: 16, dataParallelReplicas: 2, gpusPerNode: 8, globalBatchSequences: 256,
        sequenceLength: 4096, sequencesPerMicroBatch: 1, linearDType: .fp8e4m3, attentionCoreDType: .bf16,
        communicationSMs: 20, bf16Moments: true, zeroStage: 1, nodeLimit: 4)
}
