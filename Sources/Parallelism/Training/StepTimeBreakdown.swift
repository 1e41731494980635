import SimCore

/// One GPU's step time split by what its compute SMs did; the parts add up to the step time exactly.
///
/// Exposed communication is time the compute SMs sit idle waiting on communication: inside a compute op it is
/// the EP all-to-all's (`epCommunication`), on a pipeline receive after the producer's send started or on a
/// blocking send it is `ppCommunication`, at the step's end (mirrored-gradient exchange, ZeRO reduce-scatter and
/// all-gather) `dpCommunication`. A receive's wait before its producer sent, and the wait for the step's
/// slowest GPU at the step barrier, are `bubble`. `remainder` is time no accounted interval covers (0 when the
/// worker's hooks cover its whole step).
public struct StepTimeBreakdown: Sendable, Equatable {
    /// A part of the step.
    public enum Part: Int, Sendable, CaseIterable {
        /// The compute SMs busy with F, B, W (and F&B) kernels.
        case compute
        /// Compute-idle time inside compute ops: the EP all-to-all not hidden behind compute.
        case epCommunication
        /// Compute-idle time waiting on pipeline messages already sent (and on blocking sends).
        case ppCommunication
        /// Compute-idle time waiting for a producer that has not sent yet, or for the step's slowest GPU.
        case bubble
        /// Compute-idle time in the step's gradient exchange (DualPipe's mirror sum, ZeRO's collectives).
        case dpCommunication
        /// The optimizer kernels.
        case optimizer
        /// Time outside every accounted interval.
        case remainder

        /// The name in `StepReport.phases` (the data-parallel trainer's names where they mean the same).
        public var phaseName: String {
            switch self {
            case .compute: "compute"
            case .epCommunication: "ep communication (exposed)"
            case .ppCommunication: "pp communication (exposed)"
            case .bubble: "bubble"
            case .dpCommunication: "dp communication (exposed)"
            case .optimizer: "optimizer"
            case .remainder: "remainder"
            }
        }
    }

    private var durations = [SimDuration](repeating: .zero, count: Part.allCases.count)

    /// An empty breakdown (every part zero).
    public init() {}

    /// The time of `part`.
    public subscript(part: Part) -> SimDuration {
        get { durations[part.rawValue] }
        set { durations[part.rawValue] = newValue }
    }

    /// Adds `duration` to `part`.
    public mutating func add(_ duration: SimDuration, to part: Part) { self[part] = self[part] + duration }

    /// The sum of every part: the step time once the step is closed.
    public var total: SimDuration { durations.reduce(.zero, +) }

    /// EP plus PP communication not hidden behind compute (the DP exchange is reported on its own).
    public var exposedCommunication: SimDuration { self[.epCommunication] + self[.ppCommunication] }

    /// The parts as named phases, in `Part` order.
    public var phases: [StepReport.Phase] { Part.allCases.map { .init(name: $0.phaseName, duration: self[$0]) } }

    /// The per-part mean of `breakdowns`, each GPU's parts adding up to `total`: every part is its exact mean
    /// rounded down or up to the nanosecond (the leftover nanoseconds go to the parts with the largest
    /// fractions), so the mean's parts add up to `total` too.
    public static func mean(of breakdowns: [StepTimeBreakdown], total: SimDuration) -> StepTimeBreakdown {
        var mean = StepTimeBreakdown()
        guard !breakdowns.isEmpty else { return mean }
        // Breakdowns that do not add up to `total` keep the difference visible in the remainder.
        let parts = ExactMean.of(
            breakdowns.map { $0.durations.map(\.nanoseconds) }, total: total.nanoseconds,
            leftoverPart: Part.remainder.rawValue)
        mean.durations = parts.map { SimDuration.nanoseconds($0) }
        return mean
    }
}
