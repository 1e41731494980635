import SimCore

/// What one training step on the emulated cluster measured: its loss, its virtual time and where the time went.
///
/// Every trainer on the cluster (data parallel, pipeline, composed) reports steps in this one shape, so the
/// `train` command and its metrics read them the same way.
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
    /// The step's time split into phases, in the order they are reported.
    public var phases: [Phase]

    /// A step's report.
    public init(loss: Float?, stepTime: SimDuration, phases: [Phase] = []) {
        self.loss = loss
        self.stepTime = stepTime
        self.phases = phases
    }
}
