import MoEModel
import SimCore

/// What a finished pipeline run measured: per step its loss, time and executed timeline, and the parameters.
public struct PipelineRunReport: Sendable {
    /// One step as executed.
    public struct Step: Sendable {
        /// The loss, step time and phases in the shape every trainer reports.
        public var report: StepReport
        /// The executed timeline (what ran, from the step's start): spans, makespan, idle, peak activations.
        public var timeline: ScheduleAnalysis
    }

    /// The steps in order.
    public var steps: [Step]
    /// The whole model's parameters after the last step, in canonical order (each stage from its first copy).
    public var parameters: ParameterSet
    /// Whether every stage's copies (DualPipe: two) hold bit-identical parameters after the last step.
    public var copiesAgree: Bool
    /// Per rank, the most activation bytes its HBM held at once.
    public var peakActivationBytes: [Int]
    /// Per rank, the activation bytes of one micro-batch on each stage it holds, in the order it holds them.
    public var activationBytesPerMicroBatch: [[Int]]

    /// `train.max_param_diff` against `reference` (see `ParameterSet.maxRelativeDifference(to:)`).
    public func maxRelativeDifference(to reference: ParameterSet) throws -> Double {
        try parameters.maxRelativeDifference(to: reference)
    }
}
