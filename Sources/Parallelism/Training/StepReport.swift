import MoEModel
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
    /// The part of `modelFLOPs` in linear GEMMs the run executes at FP8 (nil when they run at BF16): every F, B
    /// and W FLOP of the attention projections, dense FFN, routed and shared experts; the attention core, head
    /// and gate stay at BF16.
    public var fp8ModelFLOPs: Double?
    /// One GPU's dense FP8 peak, FLOP/s (with `fp8ModelFLOPs`).
    public var fp8PeakFLOPsPerSecondPerGPU: Double?
    /// Tokens in the step's global batch (micro-batches × sequences × sequence length); nil if not known (and
    /// under unit costs, whose times are not the GPUs').
    public var tokens: Int?
    /// The schedule the step ran (`1F1B`, `DualPipe`, …); nil outside pipeline runs.
    public var scheduleName: String?
    /// The activation policy that sized the HBM's activations (pipeline runs); nil outside pipeline runs.
    public var activations: ActivationPolicy?
    /// Whether ZeRO-1 ran under the schedule (`zero-overlap=on`) or after it; nil without data parallelism.
    public var zeroOverlap: Bool?

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

    /// MFU against the peaks the FLOPs run at, a fraction: (FP8 FLOPs / FP8 peak + the other FLOPs / BF16
    /// peak) / (GPUs × step time); nil unless the run's linear GEMMs are FP8 (then it equals
    /// `modelFLOPsUtilization`).
    public var fp8ModelFLOPsUtilization: Double? {
        guard let modelFLOPs, let fp8 = fp8ModelFLOPs, let peak = peakFLOPsPerSecondPerGPU,
            let fp8Peak = fp8PeakFLOPsPerSecondPerGPU, !gpus.isEmpty, stepTime > .zero
        else { return nil }
        let idealSeconds = fp8 / fp8Peak + (modelFLOPs - fp8) / peak
        return idealSeconds / (Double(gpus.count) * stepTime.seconds)
    }

    /// Tokens trained per day at this step time: tokens / step time × 86 400 s.
    public var tokensPerDay: Double? {
        guard let tokens, stepTime > .zero else { return nil }
        return Double(tokens) / stepTime.seconds * 86_400
    }

    /// The per-phase mean over `gpus` of their schedule phases (nil if not accounted).
    public var meanSchedulePhases: SchedulePhaseBreakdown? {
        gpus.isEmpty ? nil : SchedulePhaseBreakdown.mean(of: gpus.map(\.schedulePhases), total: stepTime)
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
