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

    /// The largest relative difference of any parameter tensor against `reference`:
    /// max |a − b| / max |b| over each tensor (0 when bit-identical).
    public func maxRelativeDifference(to reference: ParameterSet) throws -> Double {
        var worst = 0.0
        for entry in parameters.entries {
            let mine = try entry.tensor.scalars()
            let theirs = try reference.tensor(entry.name).scalars()
            guard mine.count == theirs.count else {
                throw PipelineError.invalidSetup(
                    "parameter \(entry.name) has \(mine.count) values, not \(theirs.count)")
            }
            let scale = theirs.reduce(0) { max($0, Double(abs($1))) }
            let difference = zip(mine, theirs).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
            worst = max(worst, scale > 0 ? difference / scale : difference)
        }
        return worst
    }
}
