import Hardware
import MoEModel
import Parallelism
import SimCore

/// The `train` command and the `train.*` metrics: a model preset trained on the emulated cluster.
///
/// `train …` parses a `TrainRequest` and queues the trainer that fits it (data parallel with ZeRO, or a
/// pipeline schedule) as a simulated process; `run` executes it; the metrics read the `TrainingLog` after.
final class TrainCommands {
    unowned let session: ScenarioSession
    unowned let clusterCommands: ClusterCommands
    /// What the last queued training run recorded (rebuilt with the simulation).
    private(set) var log: TrainingLog
    /// Counts queued runs, so each run's collectives get their own tags.
    var nextTrainingTag = 0
    /// The last queued pipeline run's `compare=` schedules, until they ran (TrainCommands+Compare.swift).
    var pendingComparison: PendingComparison?
    /// The last queued pipeline run's HBM plan (TrainCommands+MemoryPlan.swift).
    var queuedPlan: StepMemoryPlan?

    init(session: ScenarioSession, clusterCommands: ClusterCommands) {
        self.session = session
        self.clusterCommands = clusterCommands
        log = TrainingLog(in: session.simulation)
        session.onReset { [unowned self] simulation in
            log = TrainingLog(in: simulation)
            pendingComparison = nil
            queuedPlan = nil
        }
        session.addRunCheck { [unowned self] in runPendingComparison() }
        session.register(
            Command(
                "train",
                synopsis:
                    "train [model=tiny|small|dsv3] [layers=N] [steps=S] [microbatches=M] [dp=N zero=0|1|2|3 "
                    + "moments=fp32|bf16 zero-overlap=on|off replicas=all|once] [pp=N schedule=KIND chunks=V costs=unit|model f= b= w=] [ep=N "
                    + "overlap=on|off dispatch=fp8|bf16 mode=serial|comet|waved a2a=messages|flows …] [comm-sms=N] [precision=fp8|bf16] "
                    + "[gemm-rates=published|peak] "
                    + "[compare=KIND,…] [activations=full|deepseek] [seed=N] [real|phantom]",
                summary: "queue training steps of a model preset on the emulated cluster (run to execute)",
                details: ModelPreset.allCases.map { "model=\($0.rawValue): \($0.summary)" } + [
                    "microbatches: per data-parallel rank per step; the global batch is dp × microbatches",
                    "micro-batches, and the reference trainer accumulates all of them (real runs are checked",
                    "against it: train.max_param_diff).",
                    "pp: pipeline stages; schedule=1f1b (default), gpipe, zb1p, dualpipe, interleaved: pp GPUs;",
                    "dualpipev: pp counts stages, two per GPU, so pp/2 GPUs; interleaved: pp devices × chunks=V",
                    "(default 2) stages; m = 2·pp without microbatches=. With pp > 1, zero=, moments= need dp > 1.",
                    "costs=model (default): cost-model kernels on the GPUs and sends on the fabric;",
                    "costs=unit: F, B, W take f=, b=, w= schedule time units (default 1) and sends are instant,",
                    "so train.makespan equals the schedule analyser's (f= b= w= only with costs=unit).",
                    "pp=N with dp=N: PP × DP with ZeRO-1 over each pipeline rank's DP group, placed as",
                    "`show layout pp=N ep=E dp-replica=dp/E` prints. ep=E (dp a multiple of E, costs=model): each",
                    "MoE layer runs as the expert-parallel layer across its pipeline rank's EP group, every GPU",
                    "holds its EP rank's experts only, ZeRO-1 shards the experts over dp-replica = dp/E and the",
                    "rest over dp (pp=1 works too). With schedule=dualpipe|dualpipev, overlap=on (default) runs",
                    "each F&B cell's two chunks at once so each one's all-to-all hides under the other's compute;",
                    "overlap=off runs them one after the other. dispatch=fp8 (default when hidden is a multiple",
                    "of 128, else bf16), mode=serial|comet|waved and waves=, experts-per-wave=, comet-blocks=,",
                    "expert-precision=, a2a= as for `moe`. comm-sms=N: SMs each of the run's GPUs reserves for",
                    "communication from the run's start (the rest compute; it stays so after the run).",
                    "precision=fp8|bf16 (pipeline trainer, costs=model): fp8 runs the linear layers' GEMMs (attention",
                    "projections, dense FFN, routed and shared experts) at the FP8 rate and the attention core, head",
                    "and gate at BF16, as DeepSeek-V3; default fp8 for dsv3 and dsv3-mini (their step defaults), bf16",
                    "otherwise. It changes times only, never values; expert-precision= still sets the routed experts.",
                    "gemm-rates=published (default) prices FP8 GEMMs on H800s at DeepGEMM's published figures",
                    "where it measured the shape (V3's attention projections and experts at M = 4096; docs:",
                    "PublishedGEMMRates), the rest at the datasheet peak; gemm-rates=peak prices every GEMM at it.",
                    "compare=1f1b,zb1p (gpipe, 1f1b, zb1p, dualpipe; the main schedule one of them): once the run",
                    "has finished, `run` runs the same layout, model, batch and options under each of them on a",
                    "fresh world (a new cluster of the same spec, same seed), for `show step`'s comparison table",
                    "and train.compare[S].*; the same m for all (DualPipe needs m even and >= 2·pp).",
                    "activations=full|deepseek (pipeline trainer): what a micro-batch keeps from F to W. full: every",
                    "op's input and output in BF16; deepseek (default for dsv3, dsv3-mini): DeepSeek-V3's RMSNorm",
                    "and MLA up-projection recomputation (charged in B) and FP8/E5M6 caching (docs/ARCHITECTURE.md).",
                    "zero-overlap=on|off (pipeline trainer, dp > 1): on starts each stage copy's ZeRO-1",
                    "(reduce-scatter, AdamW on the shard, all-gather) once its gradients are final (its last W;",
                    "DualPipe: with the mirror copy's added), under the rest of the schedule; off runs it after the",
                    "last op. Same values either way; default on for dsv3 and dsv3-mini, off otherwise.",
                    "approximation: replicas=once (phantom, ep > 1, dp-replica > 1) runs the schedule on the first",
                    "DP replica only; every other replica's GPU follows its twin there and runs only the mirror",
                    "exchange and ZeRO-1 with it, and reports the twin's step (docs give the measured error).",
                ],
                completionWords: ["real", "phantom"],
                argumentKeys: TrainRequest.allowedKeys
            ) { [unowned self] line in try queue(line) })
        session.registerValues(command: "train", key: "model") { ModelPreset.allCases.map(\.rawValue) }
        session.registerValues(command: "train", key: "schedule") { TrainRequest.scheduleNames }
        session.registerValues(command: "train", key: "costs") { TrainRequest.Costs.allCases.map(\.rawValue) }
        session.registerValues(command: "train", key: "moments") { ["fp32", "bf16"] }
        session.registerValues(command: "train", key: "overlap") { ["on", "off"] }
        session.registerValues(command: "train", key: "zero-overlap") { ["on", "off"] }
        session.registerValues(command: "train", key: "replicas") { ["all", "once"] }
        session.registerValues(command: "train", key: "dispatch") { ["fp8", "bf16"] }
        session.registerValues(command: "train", key: "gemm-rates") { GEMMRates.allCases.map(\.rawValue) }
        session.registerValues(command: "train", key: "a2a") { EPTransport.allCases.map(\.rawValue) }
        session.registerValues(command: "train", key: "mode") { EPMode.allCases.map(\.rawValue) }
        session.registerValues(command: "train", key: "expert-precision") { ExpertPrecision.allCases.map(\.rawValue) }
        session.registerValues(command: "train", key: "precision") { TrainRequest.precisionNames }
        session.registerValues(command: "train", key: "compare") { Self.comparableSchedules.map(\.rawValue) }
        session.registerValues(command: "train", key: "activations") { ActivationPolicy.allCases.map(\.rawValue) }
        registerMetrics()
        registerPipelineMetrics()
        registerDataParallelMetrics()
        registerLayout()
        registerStepReport()
        registerStepReportMetrics()
        registerMemoryPlanMetrics()
    }

    private func queue(_ line: CommandLine) throws {
        var request = try TrainRequest(line, defaultSeed: session.seed)
        let cluster = try clusterCommands.requireCluster(line)
        try checkExpertRequest(request, line: line, cluster: cluster)
        try regroupExperts(&request, line: line, cluster: cluster)
        if request.pipelineStages > 1 || request.scheduleName != nil || request.expertParallel > 1 {
            try queuePipeline(request, line: line, cluster: cluster)
        } else {
            for key in ["precision", "compare", "activations", "gemm-rates", "zero-overlap"] {
                if let token = line.options.last(where: { $0.key.text == key })?.key {
                    throw line.error(
                        "\(key)= applies to the pipeline trainer (pp=, schedule= or ep=); the data-parallel "
                            + "trainer runs BF16 without a schedule", at: token)
                }
            }
            pendingComparison = nil
            try queueDataParallel(request, line: line, cluster: cluster)
            // `show schedule` goes back to the analysed schedule: this run has no pipeline timeline.
            session.component(ScheduleCommands.self)?.showExecuted(nil)
        }
    }

    /// The finished run's value, read between steps of the simulation.
    func lastRun<T: Sendable>(_ read: @Sendable (TrainingRun) -> T?) -> T? {
        session.simulation.inspect(log) { log in log.runs.last.flatMap(read) }
    }

    private func registerMetrics() {
        session.register(
            Metric(
                "train.loss[i]", .number, "mean loss of step i (from 0) of the last run",
                instances: { [unowned self] in
                    (0..<(lastRun { $0.steps.count } ?? 0)).map { [String($0)] }
                }
            ) { [unowned self] selectors in
                guard let index = selectors.first.flatMap({ Int($0) }) else { return nil }
                return lastRun { $0.steps.indices.contains(index) ? $0.steps[index].loss.map(Double.init) : nil }
            })
        session.register(
            Metric("train.steps", .number, "steps the last run finished") { [unowned self] _ in
                lastRun { Double($0.steps.count) }
            })
        session.register(
            Metric("train.step_time", .time, "virtual time of the last run's last step") { [unowned self] _ in
                lastRun { $0.steps.last.map { Double($0.stepTime.nanoseconds) } }
            })
        session.register(
            Metric(
                "train.max_param_diff", .number,
                "largest relative difference of any parameter against the reference trainer (real runs)"
            ) { [unowned self] _ in lastRun { $0.maxParameterDifference } })
    }
}

/// One finished `train` run: its step reports and how its parameters compare with the reference trainer.
struct TrainingRun: Sendable {
    var steps: [StepReport]
    /// Real runs: the largest relative parameter difference against `ReferenceTrainer` after the last step.
    var maxParameterDifference: Double?
    /// Real pipeline runs: the reference trainer's loss per step, on the same micro-batches.
    var referenceLosses: [Float]? = nil
    /// Pipeline runs: the executed timelines and memory (see TrainCommands+Pipeline.swift).
    var pipeline: PipelineRunSummary? = nil
    /// Data-parallel runs: bytes one rank sent in DP collectives in the last step.
    var dataParallelBytes: Int?
    /// Ψ: the model's parameter count.
    var parameterCount: Int?
    /// Data-parallel runs: each GPU's HBM during this run alone (peaks reset at its start), by GPU index.
    var memory: [HBM]? = nil
    /// `compare=`: the same run under other schedules, each on a fresh world (TrainCommands+Compare.swift).
    var comparisons: [ScheduleComparison] = []
}

/// Finished training runs, in completion order; the trainer's process appends, metrics read between steps.
actor TrainingLog: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var runs: [TrainingRun] = []

    init(in simulation: Simulation) { self.simulation = simulation }

    func append(_ run: TrainingRun) { runs.append(run) }

    /// Attaches `comparisons` to the last run.
    func attach(_ comparisons: [ScheduleComparison]) {
        guard !runs.isEmpty else { return }
        runs[runs.count - 1].comparisons = comparisons
    }
}
