import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore

/// What a pipeline `train` run leaves for its metrics and `show schedule`.
struct PipelineRunSummary: Sendable {
    var report: PipelineRunReport
    /// Nanoseconds per reported time unit: a schedule time unit under costs=unit, 1 µs under costs=model.
    var nanosecondsPerUnit: Double
    /// Whether the run used unit costs.
    var isUnitCost: Bool
    /// Whether its all-to-alls ran as bulk flows (`a2a=flows`, an approximation `show step` states).
    var usesFlows = false
    /// Whether its DP replicas were emulated once (`replicas=once`, an approximation `show step` states).
    var emulatesReplicasOnce = false
}

extension TrainCommands {
    /// Queues pipeline-parallel training: a `PipelineTrainer` on the first GPUs of the cluster, checked against
    /// `ReferenceTrainer` on the same micro-batches when it finishes; `compare=` schedules run after it.
    func queuePipeline(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws {
        let (trainer, training, schedule) = try pipelineTrainer(request, line: line, cluster: cluster)
        let comparison = try pendingComparison(request, line: line, cluster: cluster, schedule: schedule)
        let runsBefore = startPipeline(trainer, request: request, training: training)
        pendingComparison = comparison.map {
            PendingComparison(request: request, line: line, kinds: $0, spec: cluster.spec, runsBefore: runsBefore)
        }
        let dp = request.dataParallel
        let ranges = trainer.stageLayers.map(\.count)
        session.output(
            "queued \(schedule.name) pp=\(request.pipelineStages)\(dp > 1 ? " × dp=\(dp) ZeRO-1" : "")"
                + expertSummary(request) + " "
                + "m=\(schedule.microBatchCount) training of "
                + "model=\(request.preset.rawValue) (\(request.config.layerCount) layers, \(layerSummary(ranges)) "
                + "per stage, \(request.isReal ? "real" : "phantom")) for \(request.steps) step(s), "
                + "costs=\(request.costs.rawValue)\(precisionSummary(request))"
                + "\(request.bf16Moments && request.costs == .model ? ", bf16 AdamW moments" : "")"
                + ", activations=\(request.activations.rawValue)\(planSummary(trainer, on: cluster))"
                + zeroSummary(request)
                + " on gpu0…gpu\(schedule.deviceCount * dp - 1)" + compareSummary(comparison))
    }

    /// The trainer `request` asks for on the first GPUs of `cluster`, and its training step and schedule; every
    /// check runs before anything is built.
    func pipelineTrainer(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws
        -> (PipelineTrainer, TrainingConfig, PipelineSchedule)
    {
        try checkPipelineRequest(request, line: line)
        try checkPipelineSize(request, line: line, cluster: cluster)
        let schedule = try pipelineSchedule(request, line: line)
        let dp = request.dataParallel
        let gpuCount = schedule.deviceCount * dp
        guard gpuCount <= cluster.gpus.count else {
            let what = dp > 1 ? "pp=\(request.pipelineStages) × dp=\(dp)" : "pp=\(request.pipelineStages)"
            throw line.error(
                "\(what) needs \(gpuCount) GPUs for \(schedule.name), the cluster has \(cluster.gpus.count)",
                at: line.option("pp") ?? line.command)
        }
        let groups = try composedGroups(request, line: line, cluster: cluster, pipelineRanks: schedule.deviceCount)
        guard request.config.layerCount >= schedule.stageCount else {
            throw line.error(
                "layers=\(request.config.layerCount) is fewer than the \(schedule.stageCount) stages of "
                    + "\(schedule.name)", at: line.option("layers") ?? line.option("pp") ?? line.command)
        }
        let training = TrainingConfig(
            seed: request.seed, steps: request.steps, microBatchesPerStep: schedule.microBatchCount * dp,
            sequencesPerMicroBatch: request.preset.sequencesPerMicroBatch,
            sequenceLength: request.preset.sequenceLength)
        let isUnit = request.costs == .unit
        do {
            let trainer = try PipelineTrainer(
                schedule: schedule, config: request.config, training: training,
                costs: isUnit ? .unit(unitDurations(request)) : .model,
                gpus: Array(cluster.gpus.prefix(gpuCount)), phantom: !request.isReal, dataGroups: groups.data,
                expertGroups: groups.experts, overlapsChunks: request.overlapsChunks, commSMCount: request.commSMCount,
                precision: isUnit ? .bf16 : request.precision, bf16Moments: request.bf16Moments,
                activations: request.activations, gemmRates: request.expertOptions.gemmRates,
                overlapsZeRO: request.zeroOverlap, emulatesReplicasOnce: request.emulatesReplicasOnce)
            return (trainer, training, schedule)
        } catch {
            throw line.error(String(describing: error), at: line.option("schedule") ?? line.command)
        }
    }

    /// Starts `trainer` and appends its run to the log when it finishes (real runs: with the reference
    /// trainer's losses and parameter difference); returns the log's run count before it.
    private func startPipeline(_ trainer: PipelineTrainer, request: TrainRequest, training: TrainingConfig) -> Int {
        let isUnit = request.costs == .unit
        let log = log
        let unitNs = isUnit ? ScheduleCommands.nanosecondsPerUnit : 1_000
        let isReal = request.isReal
        let failure = PipelineFailure(in: session.simulation)
        let runsBefore = session.simulation.inspect(log) { $0.runs.count }
        trainer.start(
            onFinish: { report in
                var difference: Double?
                var referenceLosses: [Float]?
                if isReal {
                    var reference = try ReferenceTrainer(config: request.config, training: training)
                    referenceLosses = try reference.train()
                    difference = try report.maxRelativeDifference(to: reference.parameters)
                }
                let summary = PipelineRunSummary(
                    report: report, nanosecondsPerUnit: unitNs, isUnitCost: isUnit,
                    usesFlows: request.expertParallel > 1 && request.expertOptions.transport == .flows,
                    emulatesReplicasOnce: request.emulatesReplicasOnce)
                await log.append(
                    TrainingRun(
                        steps: report.steps.map(\.report), maxParameterDifference: difference,
                        referenceLosses: referenceLosses, pipeline: summary))
            }, onFailure: { error in await failure.record(error) })
        session.component(ScheduleCommands.self)?.showExecuted { [unowned self] in
            if let message = session.simulation.inspect(failure, { $0.message }) { return .failed(message) }
            // This run's summary, not an earlier run's: only runs appended after it was queued count.
            let summary = session.simulation.inspect(log) { log in
                log.runs.count > runsBefore ? log.runs.last?.pipeline : nil
            }
            return summary.map { .finished($0) } ?? .pending
        }
        return runsBefore
    }

    private func checkPipelineRequest(_ request: TrainRequest, line: CommandLine) throws(ScenarioError) {
        guard request.dataParallel == 1 || request.zeroStage == 1 else {
            throw line.error(
                "zero=\(request.zeroStage) with pp=\(request.pipelineStages) dp=\(request.dataParallel): the composed "
                    + "pipeline trainer runs ZeRO-1 only (zero=1)", at: line.option("zero") ?? line.command)
        }
        try refuseIgnoredKeys(request, line: line)
    }

    /// Keys a pure pipeline run would silently ignore: refused with the caret on the key.
    private func refuseIgnoredKeys(_ request: TrainRequest, line: CommandLine) throws(ScenarioError) {
        for key in ["zero", "moments", "zero-overlap"] where request.dataParallel == 1 {
            if let token = Self.key(key, in: line) {
                throw line.error("\(key)= applies to data-parallel ranks; a pipeline run with dp=1 has none", at: token)
            }
        }
        if request.scheduleName != "interleaved", let token = Self.key("chunks", in: line) {
            throw line.error("chunks= applies only to schedule=interleaved", at: token)
        }
        if request.costs == .unit, let token = Self.key("precision", in: line) {
            throw line.error("precision= applies only to costs=model (costs=unit times ops with f=, b=, w=)", at: token)
        }
        if request.costs == .model {
            for key in ["f", "b", "w"] {
                if let token = Self.key(key, in: line) {
                    throw line.error(
                        "\(key)= applies only to costs=unit (costs=model times ops with the cost model)", at: token)
                }
            }
        }
    }

    /// The key token of `key`, if given (the last one wins, as for its value).
    private static func key(_ key: String, in line: CommandLine) -> Token? {
        line.options.last { $0.key.text == key }?.key
    }

    /// The micro-batch count the schedule gets: `microbatches=`, or 2 PP when absent (enough for every schedule:
    /// DualPipe needs m even and >= 2 PP).
    private func pipelineMicroBatches(_ request: TrainRequest, line: CommandLine) -> Int {
        line.option("microbatches") == nil ? 2 * request.pipelineStages : request.microBatches
    }

    /// Checks pp against the cluster and bounds the schedule's size before any schedule is built.
    private func checkPipelineSize(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws(ScenarioError) {
        let isInterleaved = request.scheduleName == "interleaved"
        let kind = PipelineScheduleKind(rawValue: request.scheduleName ?? "") ?? .oneFOneB
        let name = isInterleaved ? "interleaved 1F1B" : kind.description
        let stages = request.pipelineStages
        // DualPipe-V's pp counts stages, two per device; every other schedule's pp counts devices.
        let devices = kind == .dualPipeV && !isInterleaved ? (stages + 1) / 2 : stages
        guard devices <= cluster.gpus.count else {
            throw line.error(
                "pp=\(stages) needs \(devices) GPUs for \(name), the cluster has \(cluster.gpus.count)",
                at: line.option("pp") ?? line.command)
        }
        let chunks = stages * pipelineMicroBatches(request, line: line) * (isInterleaved ? request.chunks : 1)
        guard chunks <= ScheduleCommands.maxChunks else {
            throw line.error(
                (isInterleaved ? "pp × chunks × microbatches" : "pp × microbatches")
                    + " = \(chunks) is too large (at most \(ScheduleCommands.maxChunks))",
                at: line.option("microbatches") ?? line.option("pp") ?? line.command)
        }
    }

    /// The schedule `schedule=` names (default 1F1B) for pp, microbatches and chunks; errors name the value.
    private func pipelineSchedule(_ request: TrainRequest, line: CommandLine) throws(ScenarioError) -> PipelineSchedule
    {
        let name = request.scheduleName ?? PipelineScheduleKind.oneFOneB.rawValue
        let microBatches = pipelineMicroBatches(request, line: line)
        do {
            if name == "interleaved" {
                return try PipelineSchedule.interleavedOneFOneB(
                    devices: request.pipelineStages, chunksPerDevice: request.chunks,
                    microBatches: microBatches)
            }
            return try PipelineSchedule.generate(
                PipelineScheduleKind(rawValue: name) ?? .oneFOneB, stages: request.pipelineStages,
                microBatches: microBatches)
        } catch let error as PipelineScheduleError {
            throw line.error(String(describing: error), at: token(for: error, in: line))
        } catch {
            throw line.error(String(describing: error), at: line.option("schedule") ?? line.command)
        }
    }

    private func token(for error: PipelineScheduleError, in line: CommandLine) -> Token {
        switch error {
        case .tooFewStages, .oddStageCount: line.option("pp") ?? line.command
        case .tooFewMicroBatches, .oddMicroBatchCount, .microBatchesNotMultiple:
            line.option("microbatches") ?? line.command
        case .tooFewChunks: line.option("chunks") ?? line.command
        }
    }

    private func unitDurations(_ request: TrainRequest) -> OpDurations {
        func duration(_ units: Double) -> SimDuration {
            SimDuration(nanoseconds: Int64((units * ScheduleCommands.nanosecondsPerUnit).rounded()))
        }
        return OpDurations(
            forward: duration(request.unitForward), backwardInput: duration(request.unitBackwardInput),
            backwardWeight: duration(request.unitBackwardWeight))
    }

    /// `, fp8 GEMMs (attention core, head, gate bf16; published H800 rates)` for a run whose linear layers are
    /// not BF16, else nothing.
    private func precisionSummary(_ request: TrainRequest) -> String {
        let precision = request.precision
        guard request.costs == .model, precision.linear != .bf16 else { return "" }
        let rates =
            request.expertOptions.gemmRates == .published
            ? "DeepGEMM's published H800 rates where measured" : "datasheet peak"
        return ", \(precision.linear.rawValue) GEMMs (attention core, head, gate \(precision.attentionCore.rawValue); "
            + "\(rates))"
    }

    /// `, ZeRO-1 overlapped with the schedule` or `, ZeRO-1 after the schedule` (dp > 1), else nothing.
    private func zeroSummary(_ request: TrainRequest) -> String {
        guard request.dataParallel > 1 else { return "" }
        return request.zeroOverlap
            ? ", ZeRO-1 overlapped with the schedule (zero-overlap=on)"
            : ", ZeRO-1 after the schedule (zero-overlap=off)"
    }

    private func layerSummary(_ counts: [Int]) -> String {
        let low = counts.min() ?? 0
        let high = counts.max() ?? 0
        return low == high ? "\(low)" : "\(low)–\(high)"
    }
}
