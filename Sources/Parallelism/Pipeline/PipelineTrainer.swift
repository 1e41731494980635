import Collectives
import Hardware
import MoEModel
import SimCore
import Tensors

/// Trains a real model with a pipeline schedule on the GPUs of one pipeline group: a `StageWorker` per GPU
/// walks its op list with real activations and gradients, every step, then AdamW per stage copy.
///
/// Build it (every precondition is checked here, before anything runs, including that each GPU's step peak
/// fits its free HBM: `StepMemoryError` otherwise), `start()` it, drive the simulation, then read `report()`.
/// The micro-batches and initial parameters are `ReferenceTrainer`'s for `training`.
public final class PipelineTrainer: Sendable {
    /// The schedule every step runs.
    public let schedule: PipelineSchedule
    /// The model shape.
    public let config: MoEConfig
    /// Steps, micro-batches (must be the schedule's m), batch shape, optimizer, seed.
    public let training: TrainingConfig
    /// The layers of each stage (`ModelStage.layerRanges`).
    public let stageLayers: [Range<Int>]
    /// DP_total: pipeline groups, each running the schedule on its own m micro-batches.
    public let dataParallel: Int
    /// SMs every GPU of the run reserves for communication when it starts (nil: the cluster's split).
    public let commSMCount: Int?
    /// The tensor-core precision of the stage workers' kernels (model costs).
    public let precision: ComputePrecision
    /// Which activations each micro-batch keeps from F to W (HBM, the plan) and what B recomputes (its FLOPs).
    public let activations: ActivationPolicy
    /// Whether each stage copy's ZeRO-1 starts once its gradients are final, under the rest of the schedule
    /// (false without data-parallel groups).
    public let overlapsZeRO: Bool
    /// Data indices whose workers run the schedule: all of DP_total, or under `replicas=once` the first EP
    /// group's (the others are shadows, `StageWorker+Shadow.swift`).
    public let emulatedDataIndices: Int
    let gpus: [GPU]
    let simulation: Simulation
    let workers: [StageWorker]
    let recorder: PipelineRecorder
    let barrier: StepBarrier
    /// The cost model's F + B + W FLOPs of one micro-batch through the whole model (MFU's numerator); nil
    /// under unit costs, whose times are not the GPUs'.
    let modelFLOPsPerMicroBatch: Double?
    /// The part of `modelFLOPsPerMicroBatch` in linear GEMMs run at FP8 (nil unless `precision.linear` is FP8).
    let fp8FLOPsPerMicroBatch: Double?

    /// A trainer for `schedule` on `gpus` (one per schedule device, in rank order); `phantom` moves shapes
    /// only (cost-only timing, no parameters, any model the cost model covers); `validates: false` skips the
    /// schedule validator (tests run hand-broken schedules that way).
    ///
    /// `dataGroups` composes PP × DP with ZeRO-1: one communicator per pipeline rank p (its DP group, rank d =
    /// data-parallel index d, as `ParallelLayout.dataGroups`); `gpus` then holds PP × DP GPUs, GPU p·DP + d
    /// being rank p of pipeline group d, and the training step has DP × m micro-batches (group d runs
    /// d·m … d·m+m−1). Empty: one pipeline group.
    ///
    /// `expertGroups` composes EP too (PP × EP × DP, DP_total = EP × DP_replica): each MoE layer runs as an
    /// expert-parallel layer across the EP group of its pipeline rank, each copy holds its EP rank's routed
    /// experts only (ZeRO-1 over the expert-DP group), and with `overlapsChunks` an F&B op runs its two chunks
    /// at once so each one's all-to-all hides under the other's compute.
    ///
    /// `precision` prices the workers' kernels (the EP layers' experts follow their own options'
    /// `expertPrecision`); it changes times only, never values. `bf16Moments` charges 8 bytes of AdamW state per
    /// shard parameter instead of 12 (HBM and the optimizer kernel; the update itself stays in FP32).
    /// `gemmRates` prices FP8 linear GEMMs at DeepGEMM's published H800 figures where they exist
    /// (`PublishedGEMMRates`; the EP layers follow their options' `gemmRates`) or at the datasheet peak.
    /// `activations` prices each micro-batch's activations (`ActivationPolicy`; `.deepseek` also charges B the
    /// recomputed MLA up-projections); MFU's model FLOPs leave the recomputation out.
    ///
    /// `overlapsZeRO` (with `dataGroups`) starts each copy's ZeRO-1 as soon as its gradients are final — after
    /// its last W, for DualPipe once the mirror copy's gradients are added — under the schedule's remaining ops,
    /// in the same reduction order (the same values); without it ZeRO-1 runs after the schedule.
    ///
    /// `emulatesReplicasOnce` (phantom, with `expertGroups` and DP_replica > 1; an approximation) runs the
    /// schedule on the first DP replica only: every other replica's GPU follows its twin of replica 0 and runs
    /// only the mirror exchange and ZeRO-1 with it, and reports the twin's step (`StageWorker+Shadow.swift`).
    public init(
        schedule: PipelineSchedule, config: MoEConfig, training: TrainingConfig, costs: PipelineCosts, gpus: [GPU],
        phantom: Bool = false, validates: Bool = true, dataGroups: [Communicator] = [],
        expertGroups: PipelineExpertGroups? = nil, overlapsChunks: Bool = true, commSMCount: Int? = nil,
        precision: ComputePrecision = .bf16, bf16Moments: Bool = false, activations: ActivationPolicy = .full,
        gemmRates: GEMMRates = .published, overlapsZeRO: Bool = false, emulatesReplicasOnce: Bool = false
    ) throws {
        if let commSMCount, let smCount = gpus.first?.spec.smCount, !(1..<smCount).contains(commSMCount) {
            throw PipelineError.invalidSetup(
                "comm-sms=\(commSMCount) must leave compute SMs: 1...\(smCount - 1) of the \(smCount) SMs")
        }
        self.commSMCount = commSMCount
        let dataParallel = dataGroups.first?.size ?? 1
        guard let first = gpus.first, gpus.count == schedule.deviceCount * dataParallel else {
            throw PipelineError.invalidSetup(
                "\(schedule.name) runs on \(schedule.deviceCount)\(dataParallel > 1 ? " × \(dataParallel)" : "") GPUs, "
                    + "\(gpus.count) given")
        }
        try Self.checkDataGroups(dataGroups, gpus: gpus, pipelineRanks: schedule.deviceCount)
        guard training.microBatchesPerStep == schedule.microBatchCount * dataParallel else {
            throw PipelineError.invalidSetup(
                "\(schedule.name) has m=\(schedule.microBatchCount) micro-batches"
                    + "\(dataParallel > 1 ? " × dp=\(dataParallel)" : ""), the training step \(training.microBatchesPerStep)"
            )
        }
        self.dataParallel = dataParallel
        self.overlapsZeRO = overlapsZeRO && !dataGroups.isEmpty
        if validates { try schedule.validate() }
        do {
            stageLayers = try ModelStage.layerRanges(layers: config.layerCount, stages: schedule.stageCount)
        } catch {
            throw PipelineError.invalidSetup(
                "layers=\(config.layerCount) is fewer than the \(schedule.stageCount) stages of \(schedule.name)")
        }
        self.schedule = schedule
        self.config = config
        self.training = training
        self.gpus = gpus
        simulation = first.simulation
        let reference = phantom ? nil : try ReferenceTrainer(config: config, training: training)
        let tokens = training.sequencesPerMicroBatch * training.sequenceLength
        let costModel = try CostModel(
            config: config, tokens: tokens, sequenceLength: training.sequenceLength, activations: activations)
        // Model FLOPs (MFU) count no recomputation: the same model under `.full`.
        let modelCosts =
            activations == .full
            ? costModel : try CostModel(config: config, tokens: tokens, sequenceLength: training.sequenceLength)
        self.activations = activations
        let compute = StageCompute(
            costs: costs, costModel: costModel, precision: precision,
            optimizerStateBytesPerParameter: ModelStateMemory.optimizerBytesPerParameter(bf16Moments: bf16Moments),
            appliesPublishedRates: gemmRates == .published && PublishedGEMMRates.applies(to: first.spec))
        self.precision = precision
        modelFLOPsPerMicroBatch = costs == .model ? Double(modelCosts.totalFLOPs) : nil
        fp8FLOPsPerMicroBatch =
            costs == .model && precision.linear == .fp8
            ? Double(StageCompute.linearFLOPs(of: modelCosts.ops, precision: precision)) : nil
        let pipelineRanks = schedule.deviceCount
        let recorder = PipelineRecorder(
            deviceCount: pipelineRanks, gpuCount: gpus.count, microBatchCount: training.microBatchesPerStep,
            in: simulation)
        self.recorder = recorder
        barrier = StepBarrier(participants: gpus.count, in: simulation)
        let layers = stageLayers
        let simulation = simulation
        let expertSets = try expertGroups.map {
            try Self.checkExpertGroups($0, costs: costs, dataParallel: dataParallel, config: config, gpus: gpus)
            return try Self.expertLayerSets(
                $0, schedule: schedule, config: config, layers: layers,
                replicasPerRank: dataParallel / $0.expertParallel)
        }
        let emulated = try Self.emulatedDataIndices(
            once: emulatesReplicasOnce, phantom: phantom, expertGroups: expertGroups, dataParallel: dataParallel)
        emulatedDataIndices = emulated
        // The shadows' mailboxes, by GPU index p·DP + d (d ≥ emulated).
        let twins = gpus.indices.map { index in
            index % dataParallel < emulated
                ? nil : Mailbox<Int?>("\(gpus[index].name)'s twin's finished copies", in: simulation)
        }
        let built = try (0..<dataParallel).flatMap { d -> [StageWorker] in
            let groupGPUs = (0..<pipelineRanks).map { gpus[$0 * dataParallel + d] }
            let transport: any StageTransport =
                costs == .model ? FabricStageTransport(gpus: groupGPUs) : InstantStageTransport(in: simulation)
            let data = reference.map {
                PipelineData(
                    dataset: $0.dataset, sequencesPerMicroBatch: training.sequencesPerMicroBatch, dataIndex: d)
            }
            return try (0..<pipelineRanks).map { rank in
                let group = dataGroups.isEmpty ? nil : StageDataParallel(group: dataGroups[rank], dataIndex: d)
                let experts = expertGroups.flatMap { groups in
                    expertSets.map { sets in
                        (groups, sets[rank * (dataParallel / groups.expertParallel) + d / groups.expertParallel])
                    }
                }
                let index = rank * dataParallel + d
                let shadows =
                    d < emulated
                    ? stride(from: index + emulated, to: (rank + 1) * dataParallel, by: emulated)
                        .compactMap { twins[$0] } : []
                return try Self.worker(
                    rank: rank, gpu: groupGPUs[rank], schedule: schedule, config: config,
                    initial: reference?.parameters,
                    training: training, costModel: costModel, layers: layers, compute: compute, transport: transport,
                    data: data, recorder: recorder, dataParallel: group, experts: experts,
                    overlapsChunks: overlapsChunks, overlapsZeRO: overlapsZeRO,
                    mirroring: (twins[index], shadows))
            }
        }
        // Workers were built group by group; keep them in GPU order (p·DP + d).
        workers = (0..<gpus.count).map { built[($0 % dataParallel) * pipelineRanks + $0 / dataParallel] }
        // A step that cannot fit is refused before anything runs, not part-way through (`StepMemoryPlan`).
        try checkMemory(gpus.map { gpu in simulation.inspect(gpu) { $0.hbm } })
    }

    private static func worker(
        rank: Int, gpu: GPU, schedule: PipelineSchedule, config: MoEConfig, initial: ParameterSet?,
        training: TrainingConfig, costModel: CostModel, layers: [Range<Int>], compute: StageCompute,
        transport: any StageTransport, data: PipelineData?, recorder: PipelineRecorder,
        dataParallel: StageDataParallel?, experts: (PipelineExpertGroups, ExpertLayerSet)?, overlapsChunks: Bool,
        overlapsZeRO: Bool, mirroring: (twin: Mailbox<Int?>?, shadows: [Mailbox<Int?>])
    ) throws -> StageWorker {
        var copy = 0
        let replicas = try schedule.directions.flatMap { direction in
            try (0..<schedule.stageCount).filter { schedule.stageDevices[direction.rawValue][$0] == rank }.map {
                stage in
                defer { copy += 1 }
                let expertParallel = experts.map { (groups: $0.0, layers: $0.1.copies[copy]) }
                return try Self.replica(
                    stage: stage, direction: direction, layers: layers[stage], config: config,
                    initial: initial, training: training, costModel: costModel, dataParallel: dataParallel,
                    experts: expertParallel, pipelineRank: rank)
            }
        }
        return StageWorker(
            rank: rank, gpu: gpu, schedule: schedule, compute: compute, transport: transport,
            data: data, activationShape: [costModel.tokens, config.hiddenSize], recorder: recorder,
            replicas: replicas, dataParallel: dataParallel, overlapsChunks: overlapsChunks,
            overlapsZeRO: overlapsZeRO, twin: mirroring.twin, shadows: mirroring.shadows)
    }

    /// The data indices that run the schedule: `dataParallel`, or EP under `replicas=once` (checked here).
    private static func emulatedDataIndices(
        once: Bool, phantom: Bool, expertGroups: PipelineExpertGroups?, dataParallel: Int
    ) throws -> Int {
        guard once else { return dataParallel }
        guard phantom, let expertParallel = expertGroups?.expertParallel, dataParallel > expertParallel else {
            throw PipelineError.invalidSetup(
                "replicas=once emulates identical DP replicas once: it needs a phantom run with ep > 1 and "
                    + "dp-replica > 1 (dp=\(dataParallel), ep=\(expertGroups?.expertParallel ?? 1)\(phantom ? "" : ", real"))"
            )
        }
        return expertParallel
    }

    private static func checkDataGroups(_ groups: [Communicator], gpus: [GPU], pipelineRanks: Int) throws {
        guard !groups.isEmpty else { return }
        let size = groups[0].size
        guard groups.count == pipelineRanks, groups.allSatisfy({ $0.size == size }) else {
            throw PipelineError.invalidSetup(
                "\(groups.count) data-parallel groups given for \(pipelineRanks) pipeline ranks (one each, equal sizes)"
            )
        }
        for (p, group) in groups.enumerated() {
            for d in 0..<size where group.ranks[d] != gpus[p * size + d].id {
                throw PipelineError.invalidSetup(
                    "data-parallel group \(p) rank \(d) is \(group.ranks[d]), not the GPU of pipeline rank \(p) "
                        + "of group \(d) (\(gpus[p * size + d].name))")
            }
        }
    }

    private static func replica(
        stage: Int, direction: PipelineDirection, layers: Range<Int>, config: MoEConfig, initial: ParameterSet?,
        training: TrainingConfig, costModel: CostModel, dataParallel: StageDataParallel?,
        experts: (groups: PipelineExpertGroups, layers: [ExpertParallelLayer?])?, pipelineRank: Int
    ) throws -> StageReplica {
        var count = costModel.stageOps(layers: layers).reduce(0) { $0 + $1.parameterCount }
        let modelStage = try initial.map { _ in try ModelStage(config: config, layers: layers) }
        var parameters = try initial.map { try modelStage?.parameters(from: $0) ?? ParameterSet() } ?? ParameterSet()
        var expertParallel: StageExpertParallel?
        if let experts {
            let (state, local) = try expertParallelCopy(
                layers: experts.layers, stageLayers: layers, config: config, dataIndex: dataParallel?.dataIndex ?? 0,
                pipelineRank: pipelineRank, groups: experts.groups, parameters: initial == nil ? nil : parameters)
            expertParallel = state
            parameters = local ?? parameters
            let moeLayers = layers.count { config.isMoELayer($0) }
            count -=
                moeLayers
                * StageExpertParallel.remoteExpertParameters(
                    config: config, expertParallel: experts.groups.expertParallel)
        }
        guard initial == nil || parameters.elementCount == count else {
            throw PipelineError.invalidSetup(
                "stage \(stage): the cost model counts \(count) parameters, the model has \(parameters.elementCount)")
        }
        let expertCount = expertParallel?.expertParameterCount ?? 0
        // Phantom copies step no optimizer: their AdamW holds no moments (HBM is charged from the counts).
        let values = initial == nil ? 0 : 1
        let expertShard = values * (expertParallel?.expertData?.shard(of: expertCount).count ?? expertCount)
        let denseShard = values * (dataParallel?.shard(of: count - expertCount).count ?? count)
        return StageReplica(
            stageIndex: stage, direction: direction, layers: layers, stage: modelStage, parameterCount: count,
            parameters: parameters,
            gradients: try parameters.zeros(),
            optimizer: AdamW(config: training.optimizer, parameterCount: denseShard),
            expertParallel: expertParallel,
            expertOptimizer: expertParallel == nil
                ? nil : AdamW(config: training.optimizer, parameterCount: expertShard),
            activationBytes: costModel.stageActivationBytes(layers: layers))
    }

    private static func checkExpertGroups(
        _ groups: PipelineExpertGroups, costs: PipelineCosts, dataParallel: Int, config: MoEConfig, gpus: [GPU]
    ) throws {
        let expertParallel = groups.expertParallel
        guard costs == .model else {
            throw PipelineError.invalidSetup("expert parallelism needs model costs (its all-to-all runs on the fabric)")
        }
        guard expertParallel > 1, dataParallel % expertParallel == 0 else {
            throw PipelineError.invalidSetup(
                "ep=\(expertParallel) must be at least 2 and divide the data-parallel size \(dataParallel)")
        }
        guard config.routedExpertCount % expertParallel == 0 else {
            throw PipelineError.invalidSetup(
                "ep=\(expertParallel) does not divide the model's \(config.routedExpertCount) routed experts")
        }
        let replicas = dataParallel / expertParallel
        guard replicas == 1 ? groups.expertDataGroups.isEmpty : groups.expertDataGroups.count > 0 else {
            throw PipelineError.invalidSetup(
                "\(groups.expertDataGroups.count) expert-DP groups given for dp-replica=\(replicas)")
        }
        // EP group p·R + r must hold the GPUs of pipeline rank p, data indices r·EP … r·EP + EP − 1, in order.
        guard groups.expertGroups.count * dataParallel == gpus.count * replicas,
            groups.expertGroups.allSatisfy({ $0.size == expertParallel })
        else {
            throw PipelineError.invalidSetup(
                "\(groups.expertGroups.count) EP groups given for \(gpus.count / dataParallel) pipeline ranks × "
                    + "\(replicas) replicas (one each, of \(expertParallel) GPUs)")
        }
        for (index, group) in groups.expertGroups.enumerated() {
            let (rank, replica) = (index / replicas, index % replicas)
            for e in 0..<group.size where group.ranks[e] != gpus[rank * dataParallel + replica * expertParallel + e].id
            {
                throw PipelineError.invalidSetup(
                    "EP group \(index) rank \(e) is \(group.ranks[e]), not pipeline rank \(rank)'s GPU of data index "
                        + "\(replica * expertParallel + e)")
            }
        }
    }

    /// Ops of one step over every worker's op list (sends and receives included): what `start` tells
    /// `Simulation.work` to expect per step, one done as each worker finishes an op.
    public var opsPerStep: Int { schedule.devices.reduce(0) { $0 + $1.count } * emulatedDataIndices }

    /// Spawns one process per stage worker (`stage worker R (gpuN)`), running every step; drive the
    /// simulation afterwards (its `work` meter counts the run's ops for the progress line). `onFinish` runs in
    /// rank 0's process once every worker finished the last step; `onFailure` runs in any worker's process
    /// that throws (or whose `onFinish` throws), before it rethrows.
    public func start(
        onFinish: (@Sendable (PipelineRunReport) async throws -> Void)? = nil,
        onFailure: (@Sendable (any Error) async -> Void)? = nil
    ) {
        let steps = training.steps
        simulation.work.expect(steps * opsPerStep, unit: "ops")
        for (rank, worker) in workers.enumerated() {
            let barrier = barrier
            let commSMCount = commSMCount
            let gpu = gpus[rank]
            let finish = rank == 0 ? onFinish : nil
            simulation.spawn(name: "stage worker \(rank) (\(gpus[rank].name))") { [self] in
                do {
                    if let commSMCount { try await gpu.reserveCommSMs(commSMCount) }
                    try await worker.allocateModelStates()
                    for step in 0..<steps {
                        await barrier.arrive(round: step)
                        try await worker.runStep(step)
                    }
                    await barrier.arrive(round: steps)
                    try await worker.releaseModelStates()
                    // Every worker has passed the last barrier: the report reads finished state.
                    if let finish { try await finish(try report()) }
                } catch {
                    await onFailure?(error)
                    throw error
                }
            }
        }
    }
}
