import MoEModel
import Parallelism

/// The arguments of one `train` line, parsed and range-checked; the trainers read it.
struct TrainRequest {
    /// Keys `train` accepts; each trainer uses the ones that concern it.
    static let allowedKeys = [
        "model", "layers", "steps", "microbatches", "seed", "dp", "ep", "zero", "moments", "pp", "schedule", "chunks",
        "costs", "f", "b", "w", "overlap", "comm-sms", "dispatch", "mode", "waves", "experts-per-wave", "comet-blocks",
        "expert-precision", "precision", "compare", "gemm-rates", "activations", "zero-overlap",
        "a2a", "replicas",
    ]
    /// Keys that configure the expert-parallel layers (ep > 1 only).
    static let expertKeys = [
        "dispatch", "mode", "waves", "experts-per-wave", "comet-blocks", "expert-precision", "a2a",
    ]
    /// Values of `schedule=`.
    static let scheduleNames = PipelineScheduleKind.allCases.map(\.rawValue) + ["interleaved"]
    /// Limits that keep a run bounded in memory and time.
    static let maxSteps = 1_000
    static let maxMicroBatches = 10_000
    static let maxRanks = 4_096

    /// How stage compute is timed: the given unit durations, or the cost model on the cluster's GPUs.
    enum Costs: String, CaseIterable {
        case unit
        case model
    }

    /// Which model preset, and its config after `layers=`.
    var preset: ModelPreset
    var config: MoEConfig
    var steps: Int
    /// Micro-batches per data-parallel rank per step (Megatron's `num_microbatches`).
    var microBatches: Int
    var seed: UInt64
    /// Real values (checked against the reference) or shapes only.
    var isReal: Bool
    /// Data-parallel ranks and the ZeRO stage over them.
    var dataParallel: Int
    /// EP: GPUs sharing one MoE layer's experts (dp = EP × DP_replica).
    var expertParallel: Int
    /// The EP layers' knobs (`dispatch=`, `mode=`, …); FP8 dispatch by default when hidden is a multiple of 128.
    var expertOptions = ExpertParallelLayer.Options()
    /// The GEMM precisions of the pipeline trainer's kernels: `precision=fp8|bf16`, else the preset's
    /// `TrainingStepDefaults` (FP8 linear layers for dsv3 and dsv3-mini), else BF16.
    var precision: ComputePrecision
    /// DualPipe's F&B with its two chunks at once (`overlap=on`, default) or one after the other.
    var overlapsChunks: Bool
    /// `comm-sms=`: SMs the run's GPUs reserve for communication (nil: the cluster's split).
    var commSMCount: Int?
    var zeroStage: Int
    /// `zero-overlap=on|off`: each stage copy's ZeRO-1 under the rest of the schedule, or after it (default on
    /// for the presets with DeepSeek-V3 step defaults, off for tiny and small).
    var zeroOverlap: Bool
    /// `replicas=all|once`: every DP replica of an EP group emulated, or only the first with the others
    /// following it (an approximation; phantom, ep > 1, dp-replica > 1).
    var emulatesReplicasOnce: Bool
    /// AdamW moments in fp32 (K = 12) or bf16 (K = 8, DeepSeek-V3).
    var bf16Moments: Bool
    /// `activations=full|deepseek`: what each micro-batch keeps from F to W (pipeline trainer); default the
    /// preset's step defaults (deepseek for dsv3 and dsv3-mini), else full.
    var activations: ActivationPolicy
    /// Pipeline stages, the schedule, and chunks per device for interleaved 1F1B.
    var pipelineStages: Int
    /// `gpipe`, `1f1b`, `zb1p`, `dualpipe`, `dualpipev` or `interleaved`; nil when not given.
    var scheduleName: String?
    var chunks: Int
    var costs: Costs
    /// Unit-cost durations of F, B and W, in schedule time units.
    var unitForward: Double
    var unitBackwardInput: Double
    var unitBackwardWeight: Double

    /// Parses `line`; `defaultSeed` is the session's seed.
    init(_ line: CommandLine, defaultSeed: UInt64) throws(ScenarioError) {
        try line.check(allowedKeys: Self.allowedKeys, maxPositionals: 1)
        let presetName = try line.choice("model", ModelPreset.allCases.map(\.rawValue), default: "tiny")
        preset = ModelPreset(rawValue: presetName) ?? .tiny
        let layers = try line.option("layers").map { token throws(ScenarioError) in
            try line.integer(of: token, in: 1...1_000)
        }
        do {
            config = try preset.config(layers: layers)
        } catch {
            throw line.error(String(describing: error), at: line.option("layers") ?? line.command)
        }
        steps = try line.integer("steps", in: 1...Self.maxSteps, default: 1)
        microBatches = try line.integer("microbatches", in: 1...Self.maxMicroBatches, default: 1)
        seed = UInt64(try line.integer("seed", in: 0...Int.max, default: Int(truncatingIfNeeded: defaultSeed)))
        isReal = try Self.mode(line, preset: preset)
        dataParallel = try line.integer("dp", in: 1...Self.maxRanks, default: 1)
        expertParallel = try line.integer("ep", in: 1...Self.maxRanks, default: 1)
        zeroStage = try line.integer("zero", in: 0...3, default: 1)
        let defaultOverlap = preset.stepDefaults == nil ? "off" : "on"
        zeroOverlap = try line.choice("zero-overlap", ["on", "off"], default: defaultOverlap) == "on"
        emulatesReplicasOnce = try line.choice("replicas", ["all", "once"], default: "all") == "once"
        // A preset's step sets its moments (DeepSeek-V3: BF16); the others default to FP32.
        let defaultMoments = preset.stepDefaults?.bf16Moments == true ? "bf16" : "fp32"
        bf16Moments = try line.choice("moments", ["fp32", "bf16"], default: defaultMoments) == "bf16"
        let defaultActivations = preset.stepDefaults?.activations ?? .full
        activations =
            ActivationPolicy(
                rawValue: try line.choice(
                    "activations", ActivationPolicy.allCases.map(\.rawValue), default: defaultActivations.rawValue))
            ?? defaultActivations
        pipelineStages = try line.integer("pp", in: 1...Self.maxRanks, default: 1)
        scheduleName = try line.option("schedule").map { _ throws(ScenarioError) in
            try line.choice("schedule", Self.scheduleNames)
        }
        chunks = try line.integer("chunks", in: 1...64, default: 2)
        costs = Costs(rawValue: try line.choice("costs", Costs.allCases.map(\.rawValue), default: "model")) ?? .model
        unitForward = try Self.units(line, "f")
        unitBackwardInput = try Self.units(line, "b")
        unitBackwardWeight = try Self.units(line, "w")
        overlapsChunks = try line.choice("overlap", ["on", "off"], default: "on") == "on"
        if line.option("comm-sms") != nil { commSMCount = try line.integer("comm-sms", in: 1...1_000) }
        let defaultDispatch = config.hiddenSize % 128 == 0 ? "fp8" : "bf16"
        expertOptions.fp8Dispatch = try line.choice("dispatch", ["fp8", "bf16"], default: defaultDispatch) == "fp8"
        try MoECommands.overlapOptions(line, into: &expertOptions)
        try MoECommands.checkTransport(line, options: expertOptions, real: isReal)
        precision = try Self.precision(line, preset: preset)
        if precision.linear == .fp8 {
            // The experts are linear layers too: FP8 unless expert-precision= says otherwise.
            if line.option("expert-precision") == nil { expertOptions.expertPrecision = .fp8 }
            expertOptions.sharedExpertPrecision = .fp8
        }
        try checkReplicas(line)
    }

    /// Values of `precision=`.
    static let precisionNames = ["fp8", "bf16"]

    /// `precision=fp8` (FP8 linear GEMMs, attention core, head and gate in BF16, as DeepSeek-V3), `bf16`, or the
    /// preset's step defaults.
    private static func precision(_ line: CommandLine, preset: ModelPreset) throws(ScenarioError) -> ComputePrecision {
        guard line.option("precision") != nil else {
            guard let defaults = preset.stepDefaults else { return .bf16 }
            return ComputePrecision(linear: defaults.linearDType, attentionCore: defaults.attentionCoreDType)
        }
        return try line.choice("precision", precisionNames) == "fp8" ? .deepSeekV3 : .bf16
    }

    /// `real` (default, not for phantom-only presets) or `phantom`.
    private static func mode(_ line: CommandLine, preset: ModelPreset) throws(ScenarioError) -> Bool {
        guard let word = line.positionals.first else { return !preset.isPhantomOnly }
        switch word.text {
        case "phantom": return false
        case "real" where preset.isPhantomOnly:
            throw line.error("model=\(preset.rawValue) has no real parameters; use 'phantom'", at: word)
        case "real": return true
        default: throw line.error("expected 'real' or 'phantom', not '\(word.text)'", at: word)
        }
    }

    /// `replicas=once` needs identical replicas to emulate once: shapes only, ep > 1 and dp-replica > 1.
    private func checkReplicas(_ line: CommandLine) throws(ScenarioError) {
        guard emulatesReplicasOnce, let token = line.option("replicas") else { return }
        let replicas = expertParallel > 1 ? dataParallel / expertParallel : 1
        guard !isReal, replicas > 1 else {
            throw line.error(
                "replicas=once emulates identical DP replicas once: it needs a phantom run with ep > 1 and "
                    + "dp-replica = dp/ep > 1 (here dp=\(dataParallel), ep=\(expertParallel)"
                    + "\(isReal ? ", real" : ""))", at: token)
        }
    }

    /// A unit-cost duration (default 1), between 0 and 1e6 time units.
    private static func units(_ line: CommandLine, _ key: String) throws(ScenarioError) -> Double {
        let value = try line.quantity(key, .number, default: 1)
        guard value >= 0, value <= 1e6 else {
            throw line.error("\(key) must be between 0 and 1e6 time units", at: line.option(key) ?? line.command)
        }
        return value
    }
}
