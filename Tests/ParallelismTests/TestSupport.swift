import Collectives
import MoEModel
import Parallelism
import SimCore

/// Durations f, b, w (and optionally fb) in nanoseconds: integer ticks keep the closed forms exact.
struct Durations: Sendable, CustomStringConvertible {
    var f: Int64
    var b: Int64
    var w: Int64
    var fb: Int64?

    init(_ f: Int64, _ b: Int64, _ w: Int64, fb: Int64? = nil) {
        (self.f, self.b, self.w, self.fb) = (f, b, w, fb)
    }

    /// fb as the analyser uses it: the given value or f + b + w.
    var pair: Int64 { fb ?? f + b + w }

    var ops: OpDurations {
        OpDurations(
            forward: .nanoseconds(f), backwardInput: .nanoseconds(b), backwardWeight: .nanoseconds(w),
            forwardBackward: fb.map { .nanoseconds($0) })
    }

    var description: String { "f=\(f) b=\(b) w=\(w)" + (fb.map { " fb=\($0)" } ?? "") }
}

/// Analyses `kind` at `stages` x `microBatches` with `durations` and no send time.
func analyse(_ kind: PipelineScheduleKind, stages: Int, microBatches: Int, _ durations: Durations) throws
    -> ScheduleAnalysis
{
    try PipelineSchedule.generate(kind, stages: stages, microBatches: microBatches).analyze(durations: durations.ops)
}

extension ScheduleAnalysis {
    /// The idle time of every device, in ns.
    var idleNs: [Int64] { idleTime.map(\.nanoseconds) }
}

/// A hand-made one-layer MoE (`experts` routed experts top-`topK`, `shared` shared experts, `hidden` × `width`),
/// its parameters (seed 1) and its expert-parallel layer over `communicator` with `options`.
func handMadeEPLayer(
    hidden: Int, width: Int, experts: Int, shared: Int, topK: Int, communicator: Communicator,
    options: ExpertParallelLayer.Options
) throws -> (layer: ExpertParallelLayer, parameters: ParameterSet) {
    let config = MoEConfig(
        vocabularySize: 2, hiddenSize: hidden, layerCount: 1, headCount: 1, routedExpertCount: experts,
        sharedExpertCount: shared, topK: topK, expertWidth: width, denseWidth: width, denseLayerCount: 0)
    let moe = MoELayer(prefix: "moe", config: config)
    let parameters = try EPRun.parameters(moe, hidden: hidden, width: width, seed: 1)
    let layer = try ExpertParallelLayer(
        layer: moe, hiddenSize: hidden, expertWidth: width, communicator: communicator, options: options)
    return (layer, parameters)
}
