import SimCore

/// One GPU's step time split by schedule phase, from its executed ops' start and end instants; the phases add up
/// to the step time exactly.
///
/// A device's compute ops fall into four phases by their place in its op list: the first forwards before its
/// first backward (warm-up), the steady phase up to its last forward (1F1B pairs, ZB1P's F-B-W, DualPipe's F&B
/// cells), the backwards after it (cool-down, W ops among them included) and the W ops after its last backward
/// (trailing weight gradients). Each phase is the time its ops ran (start to end, exposed EP communication
/// inside an op included); `optimizer` is the step's end on the GPU (DualPipe's mirrored-gradient exchange, the
/// ZeRO collectives, AdamW); `bubble` is every gap: before the first op, between ops (waits on the previous
/// stage, exposed pipeline communication), before the step's end and at the barrier after it.
public struct SchedulePhaseBreakdown: Sendable, Equatable {
    /// A phase of the step.
    public enum Phase: Int, Sendable, CaseIterable {
        /// Forwards before the device's first backward.
        case warmUp
        /// From the first backward to the last forward.
        case steady
        /// Backwards (and W ops among them) after the last forward.
        case coolDown
        /// W ops after the last backward.
        case trailingWeights
        /// The step's end: gradient exchange, ZeRO collectives and the optimizer.
        case optimizer
        /// Time between, before and after the ops.
        case bubble

        /// The name in `show step`.
        public var name: String {
            switch self {
            case .warmUp: "first forwards (warm-up)"
            case .steady: "steady (1F1B, F&B)"
            case .coolDown: "backwards (cool-down)"
            case .trailingWeights: "trailing W"
            case .optimizer: "optimizer (grad exchange, ZeRO, AdamW)"
            case .bubble: "bubble (idle between ops)"
            }
        }

        /// The metric suffix (`train.phase.warm_up`).
        public var metricName: String {
            switch self {
            case .warmUp: "warm_up"
            case .steady: "steady"
            case .coolDown: "cool_down"
            case .trailingWeights: "trailing_w"
            case .optimizer: "optimizer"
            case .bubble: "bubble"
            }
        }
    }

    private var durations = [SimDuration](repeating: .zero, count: Phase.allCases.count)

    /// Every phase zero.
    public init() {}

    /// The time of `phase`.
    public subscript(phase: Phase) -> SimDuration {
        get { durations[phase.rawValue] }
        set { durations[phase.rawValue] = newValue }
    }

    /// The sum of every phase: the step time once closed.
    public var total: SimDuration { durations.reduce(.zero, +) }

    /// The phase of each op of a device's op list (nil for sends and receives), by its place in the list.
    public static func phases(of ops: [PipelineOp]) -> [Phase?] {
        func hasBackward(_ op: PipelineOp) -> Bool {
            switch op.kind {
            case .backwardInput, .backwardFull, .forwardBackward: true
            default: false
            }
        }
        func hasForward(_ op: PipelineOp) -> Bool {
            switch op.kind {
            case .forward, .forwardBackward: true
            default: false
            }
        }
        let firstBackward = ops.firstIndex(where: hasBackward) ?? ops.count
        let lastForward = ops.lastIndex(where: hasForward) ?? -1
        let lastBackward = ops.lastIndex(where: hasBackward) ?? -1
        return ops.indices.map { index in
            guard ops[index].isCompute else { return nil }
            if index < firstBackward { return .warmUp }
            if index <= lastForward { return .steady }
            if index <= lastBackward { return .coolDown }
            return .trailingWeights
        }
    }

    /// The breakdown of one GPU's step from `stepStart` to `stepEnd`: `spans` are its compute ops in order with
    /// absolute instants and their phases, `optimizer` the interval of its step's end; everything else is bubble.
    public static func measured(
        spans: [(phase: Phase, start: SimInstant, end: SimInstant)], optimizer: Range<SimInstant>,
        stepStart: SimInstant, stepEnd: SimInstant
    ) -> SchedulePhaseBreakdown {
        var result = SchedulePhaseBreakdown()
        var last = stepStart
        for span in spans {
            result[.bubble] = result[.bubble] + (span.start - last)
            result[span.phase] = result[span.phase] + (span.end - span.start)
            last = span.end
        }
        result[.bubble] = result[.bubble] + (optimizer.lowerBound - last) + (stepEnd - optimizer.upperBound)
        result[.optimizer] = optimizer.upperBound - optimizer.lowerBound
        return result
    }

    /// The per-phase mean of `breakdowns`, each adding up to `total`, rounded so the mean adds up to `total`
    /// too (as `StepTimeBreakdown.mean`); a difference shows in the bubble.
    public static func mean(of breakdowns: [SchedulePhaseBreakdown], total: SimDuration) -> SchedulePhaseBreakdown {
        var mean = SchedulePhaseBreakdown()
        guard !breakdowns.isEmpty else { return mean }
        mean.durations = ExactMean.of(
            breakdowns.map { $0.durations.map(\.nanoseconds) }, total: total.nanoseconds,
            leftoverPart: Phase.bubble.rawValue
        ).map { SimDuration.nanoseconds($0) }
        return mean
    }
}
