import Hardware
import MoEModel

/// The HBM a training step needs on each GPU at its peak, planned before anything runs: the model states the
/// trainer charges when it starts (BF16 parameters and gradients, the optimizer state of its shard) and the
/// activations of the micro-batches the schedule holds at once (each F charges its chunk's bytes when it
/// starts, the op that computes the chunk's weight gradients frees them when it ends).
///
/// `check(against:)` refuses a step that would run out of memory, naming the fullest GPU and every figure, so
/// a run that does not fit fails before its first event instead of part-way through.
public struct StepMemoryPlan: Sendable, Equatable {
    /// One GPU's peak.
    public struct GPUPlan: Sendable, Equatable {
        /// The GPU (`gpuN`).
        public var gpuName: String
        /// Its pipeline rank (index into the schedule's devices).
        public var pipelineRank: Int
        /// Its data-parallel index (which pipeline group).
        public var dataIndex: Int
        /// The stage of each copy it holds, in the order it holds them (DualPipe: r and PP − 1 − r).
        public var stages: [Int]
        /// Parameters, gradients and optimizer state it holds for the whole step.
        public var modelStates: ModelStateMemory
        /// Activation bytes of one micro-batch on each copy (same order as `stages`).
        public var activationBytesPerMicroBatch: [Int]
        /// Micro-batches of each copy in flight at the activation peak (same order as `stages`).
        public var peakInFlight: [Int]
        /// The policy that priced `activationBytesPerMicroBatch`.
        public var activations: ActivationPolicy

        /// A GPU's plan.
        public init(
            gpuName: String, pipelineRank: Int, dataIndex: Int, stages: [Int], modelStates: ModelStateMemory,
            activationBytesPerMicroBatch: [Int], peakInFlight: [Int], activations: ActivationPolicy = .full
        ) {
            self.gpuName = gpuName
            self.pipelineRank = pipelineRank
            self.dataIndex = dataIndex
            self.stages = stages
            self.modelStates = modelStates
            self.activationBytesPerMicroBatch = activationBytesPerMicroBatch
            self.peakInFlight = peakInFlight
            self.activations = activations
        }

        /// Activation bytes at the peak: Σ in flight × bytes per micro-batch over the copies.
        public var peakActivationBytes: Int {
            zip(peakInFlight, activationBytesPerMicroBatch).reduce(0) { $0 + $1.0 * $1.1 }
        }

        /// Micro-batches in flight at the peak, over all copies.
        public var peakMicroBatches: Int { peakInFlight.reduce(0, +) }

        /// Model states plus the activation peak.
        public var totalBytes: Int { modelStates.totalBytes + peakActivationBytes }
    }

    /// Every GPU of the run, in the trainer's GPU order.
    public var gpus: [GPUPlan]

    /// The GPU whose planned peak is the largest (the first of equals), if any.
    public var largestPeak: GPUPlan? {
        gpus.indices.min { gpus[$0].totalBytes > gpus[$1].totalBytes }.map { gpus[$0] }
    }

    /// A plan of the given GPUs.
    public init(gpus: [GPUPlan]) { self.gpus = gpus }

    /// The most activations an op list holds at once, per copy at that instant: each op first charges the
    /// chunks it runs forward, then frees those whose weight gradients it computed (as `StageWorker` does).
    /// `bytes[c]` is copy c's bytes per micro-batch; `copy` maps a chunk to its copy.
    public static func activationPeak(
        of ops: [PipelineOp], bytes: [Int], copy: (PipelineChunk) -> Int?
    ) -> [Int] {
        var held = [Int](repeating: 0, count: bytes.count)
        var peak = held
        var peakBytes = 0
        for op in ops {
            let work = op.kind.work
            for item in work where item.role == .forward { if let c = copy(item.chunk) { held[c] += 1 } }
            let current = zip(held, bytes).reduce(0) { $0 + $1.0 * $1.1 }
            if current > peakBytes { (peak, peakBytes) = (held, current) }
            for item in work where item.role == .weight { if let c = copy(item.chunk) { held[c] -= 1 } }
        }
        return peak
    }

    /// The GPU whose peak overshoots its free HBM the most, with that HBM, if any does not fit.
    public func fullest(against hbms: [HBM]) -> (plan: GPUPlan, hbm: HBM, misfits: Int)? {
        var worst: (plan: GPUPlan, hbm: HBM, excess: Int)?
        var misfits = 0
        for (plan, hbm) in zip(gpus, hbms) where plan.totalBytes > hbm.freeBytes {
            misfits += 1
            let excess = plan.totalBytes - hbm.freeBytes
            if excess > worst?.excess ?? 0 { worst = (plan, hbm, excess) }
        }
        return worst.map { ($0.plan, $0.hbm, misfits) }
    }

    /// Throws `StepMemoryError.doesNotFit` naming the fullest GPU when any GPU's peak exceeds its free HBM
    /// (`hbms[i]` is GPU i's HBM now, in the plan's order).
    public func check(against hbms: [HBM]) throws(StepMemoryError) {
        guard let (plan, hbm, misfits) = fullest(against: hbms) else { return }
        throw .doesNotFit(
            plan, capacityBytes: hbm.capacityBytes, freeBytes: hbm.freeBytes, misfits: misfits,
            gpuCount: gpus.count)
    }
}
