import SimCore

/// What one training step on the emulated cluster measured: its loss, its virtual time and where the time went.
///
/// Every trainer on the cluster (data parallel, pipeline, composed) reports steps in this one shape, so the
/// `train` command and its metrics read them the same way. The pipeline trainers also fill the per-GPU
/// accounting (`gpus`: every part of `StepTimeBreakdown`, HBM peaks by kind) and the model FLOPs for MFU.
public struct StepReport: Sendable, Equatable {
    /// One named part of the step's time (e.g. "compute", "dp communication (exposed)", "optimizer").
    public struct Phase: Sendable, Equatable {
        public var name: String
        public var duration: SimDuration

        /// A phase of `duration`.
        public init(name: String, duration: SimDuration) {
            self.name = name
            self.duration = duration
        }
    }

    /// Mean loss over the step's micro-batches (before the update); nil in phantom runs.
    public var loss: Float?
    /// Virtual time from the step's start until its last GPU finished.
    public var stepTime: SimDuration
    /// The step's time split into phases, in the order they are reported (pipeline runs: the mean GPU's parts).
    public var phases: [Phase]
    /// Per GPU of the run, in the trainer's GPU order: its breakdown and HBM peaks (empty if not accounted).
    public var gpus: [GPUStepReport]
    /// The model FLOPs of the step: the cost model's F + B + W FLOPs of every micro-batch of the global batch
    /// (no recomputation, no optimizer); nil if not known.
    public var modelFLOPs: Double?
    /// One GPU's dense BF16 peak, FLOP/s (the MFU denominator's per-GPU term).
    public var peakFLOPsPerSecondPerGPU: Double?

    /// A step's report.
    public init(
        loss: Float?, stepTime: SimDuration, phases: [Phase] = [], gpus: [GPUStepReport] = [],
        modelFLOPs: Double? = nil, peakFLOPsPerSecondPerGPU: Double? = nil
    ) {
        self.loss = loss
        self.stepTime = stepTime
        self.phases = phases
        self.gpus = gpus
        self.modelFLOPs = modelFLOPs
        self.peakFLOPsPerSecondPerGPU = peakFLOPsPerSecondPerGPU
    }

    /// Model FLOPs utilisation, a fraction: model FLOPs / (GPUs × peak FLOP/s × step time) (PaLM's MFU).
    public var modelFLOPsUtilization: Double? {
        guard let modelFLOPs, let peak = peakFLOPsPerSecondPerGPU, !gpus.isEmpty, stepTime > .zero else { return nil }
        return modelFLOPs / (Double(gpus.count) * peak * stepTime.seconds)
    }

    /// The per-part mean over `gpus` (nil if not accounted).
    public var meanGPU: StepTimeBreakdown? {
        gpus.isEmpty ? nil : StepTimeBreakdown.mean(of: gpus.map(\.breakdown), total: stepTime)
    }

    /// The index in `gpus` of the critical GPU: the one that waited least for the others at the step's end
    /// (smallest bubble at equal step time, i.e. the most work), the first of equals.
    public var slowestGPU: Int? {
        gpus.indices.min { gpus[$0].breakdown[.bubble] < gpus[$1].breakdown[.bubble] }
    }
}
