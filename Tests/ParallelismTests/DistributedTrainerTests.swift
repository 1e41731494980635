import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// PP × EP × ZeRO-1 (issue 14): the MoE layers of every stage run across the EP group of its pipeline rank,
/// experts live on their GPU only, ZeRO-1 over DP_total (non-expert) and DP_replica (experts).
@Suite(.serialized) struct DistributedTrainerTests {
    struct Run {
        var report: PipelineRunReport
        var config: MoEConfig
        var training: TrainingConfig
        var peaks: [[Int]]
        var traceHash: UInt64
    }

    /// Trains the tiny model (4 layers: one dense) on 2 nodes with PP=2 and the given EP × DP_replica.
    static func run(
        _ kind: PipelineScheduleKind, ep: Int, replicas: Int, microBatches: Int, overlap: Bool = true,
        steps: Int = 2, nodes: Int = 2, preset: ModelPreset = .tiny, phantom: Bool = false, layers: Int = 4,
        expertWidth: Int? = nil, mode: EPMode = .serial, zeroOverlap: Bool = false, replicasOnce: Bool = false
    ) throws -> Run {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: nodes), in: simulation)
        let layout = try ParallelLayout(
            pipelineStages: 2, expertParallel: ep, dataParallelReplicas: replicas, gpuCount: 2 * ep * replicas,
            gpusPerNode: cluster.spec.gpusPerNode, expertCount: preset.config.routedExpertCount)
        let schedule = try PipelineSchedule.generate(kind, stages: 2, microBatches: microBatches)
        var config = try preset.config(layers: layers)
        if let expertWidth {
            // A wider model: hidden and expert width both `expertWidth`, so attention's and the experts'
            // compute per token outgrow the all-to-all's bytes per token.
            config.expertWidth = expertWidth
            config.hiddenSize = expertWidth
            config.denseWidth = 4 * expertWidth
        }
        var training = tinyTraining(microBatches: microBatches * layout.dataParallel, steps: steps)
        training.sequenceLength = preset.sequenceLength
        training.sequencesPerMicroBatch = preset.sequencesPerMicroBatch
        var options = ExpertParallelLayer.Options()
        options.fp8Dispatch = config.hiddenSize % 128 == 0  // FP8's per-128 scales need a multiple of 128
        options.mode = mode
        let trainer = try DistributedTrainer(
            layout: layout, cluster: cluster, schedule: schedule, config: config, training: training,
            phantom: phantom, overlapsChunks: overlap, options: options, overlapsZeRO: zeroOverlap,
            emulatesReplicasOnce: replicasOnce)
        trainer.start()
        let stop = simulation.run()
        guard stop == .finished else { throw PipelineTestFailure.stopped(stop) }
        let peaks = cluster.gpus.prefix(layout.gpuCount).map { gpu in
            simulation.inspect(gpu) { gpu in
                [MemoryKind.parameters, .gradients, .optimizerState, .activations].map { gpu.hbm.peakBytes($0) }
            }
        }
        return Run(
            report: try trainer.report(), config: config, training: training, peaks: peaks,
            traceHash: simulation.trace.hash)
    }

    static let cases: [(PipelineScheduleKind, Int, Int, Int)] = [
        (.oneFOneB, 8, 1, 2), (.zeroBubbleH1, 8, 1, 2), (.dualPipe, 8, 1, 4),
        (.oneFOneB, 4, 2, 2), (.zeroBubbleH1, 4, 2, 2), (.dualPipe, 4, 2, 4),
    ]

    /// PP=2 with EP=8, and with EP=4 × DP_replica=2: losses and parameters equal the reference trainer on the
    /// same global batch, every copy of every parameter bit-identical.
    @Test(arguments: cases.indices)
    func trainsEqualToTheReference(_ index: Int) throws {
        let (kind, ep, replicas, m) = Self.cases[index]
        let run = try Self.run(kind, ep: ep, replicas: replicas, microBatches: m)
        var reference = try ReferenceTrainer(config: run.config, training: run.training)
        let losses = try reference.train()
        for (mine, theirs) in zip(run.report.steps.map(\.report.loss), losses) {
            let loss = try #require(mine)
            #expect(abs(Double(loss - theirs)) <= 1e-5 * abs(Double(theirs)), "\(kind) ep=\(ep): \(loss) vs \(theirs)")
        }
        let difference = try run.report.maxRelativeDifference(to: reference.parameters)
        #expect(difference <= 1e-5, "\(kind) ep=\(ep) × \(replicas): \(difference)")
        #expect(run.report.copiesAgree, "\(kind) ep=\(ep) × \(replicas)")
    }

    /// DualPipe's F&B with its two chunks at once against one after the other: the same numbers (tiny model,
    /// real values), a shorter step and at most a fifth of the exposed EP communication (the small model widened
    /// to hidden and expert width 2048, phantom, 8 layers, PP=2 × EP=4 on one node, m=64: each phase's compute is
    /// at least the all-to-all it overlaps).
    @Test func overlapKeepsTheNumbersAndHidesTheAllToAll() throws {
        let on = try Self.run(.dualPipe, ep: 8, replicas: 1, microBatches: 4, overlap: true, steps: 1)
        let off = try Self.run(.dualPipe, ep: 8, replicas: 1, microBatches: 4, overlap: false, steps: 1)
        #expect(on.report.parameters == off.report.parameters)
        #expect(on.report.steps.map(\.report.loss) == off.report.steps.map(\.report.loss))
        let reports = try [true, false].map { overlap in
            try #require(
                Self.run(
                    .dualPipe, ep: 4, replicas: 1, microBatches: 64, overlap: overlap, steps: 1, nodes: 1,
                    preset: .small, phantom: true, layers: 8, expertWidth: 2048
                ).report.steps.first?.report)
        }
        let (overlapped, sequential) = (reports[0], reports[1])
        let hidden = try #require(overlapped.meanGPU)
        let exposed = try #require(sequential.meanGPU)
        #expect(overlapped.stepTime < sequential.stepTime)
        // Without overlap each chunk's compute is at least the all-to-all it waits on.
        #expect(exposed[.compute] >= exposed[.epCommunication])
        #expect(hidden[.epCommunication] > .zero)
        #expect(
            hidden[.epCommunication].nanoseconds * 5 <= exposed[.epCommunication].nanoseconds,
            "exposed EP \(hidden[.epCommunication]) with overlap vs \(exposed[.epCommunication]) without")
    }

    /// Reruns are bit-identical (trace hash included); every GPU's model states follow ZeRO-1 with this layout's
    /// groups: BF16 parameters and gradients of its copies (non-expert part plus its EP rank's experts), 12 bytes
    /// of AdamW state for its DP_total shard of the non-expert part and its DP_replica shard of the experts.
    @Test(arguments: [PipelineScheduleKind.oneFOneB, .dualPipe])
    func rerunsAreBitIdenticalAndMemoryFollowsZeROOne(_ kind: PipelineScheduleKind) throws {
        let m = kind == .dualPipe ? 4 : 2
        let first = try Self.run(kind, ep: 4, replicas: 2, microBatches: m, steps: 1)
        let second = try Self.run(kind, ep: 4, replicas: 2, microBatches: m, steps: 1)
        #expect(first.traceHash == second.traceHash)
        #expect(first.report.parameters == second.report.parameters)
        let config = first.config
        let costModel = try CostModel(config: config, tokens: 16, sequenceLength: 8)
        let stages = try ModelStage.layerRanges(layers: 4, stages: 2)
        let perExpert = 3 * config.hiddenSize * config.expertWidth
        let schedule = try PipelineSchedule.generate(kind, stages: 2, microBatches: m)
        for gpu in 0..<16 {
            let (p, d) = (gpu / 8, gpu % 8)
            let r = d / 4  // the replica: which copy of EP rank d % 4's experts
            var local = 0
            var owned = 0
            for stage in 0..<2
            where schedule.directions.contains(where: { schedule.stageDevices[$0.rawValue][stage] == p }) {
                let moeLayers = stages[stage].count { config.isMoELayer($0) }
                let full = costModel.stageOps(layers: stages[stage]).reduce(0) { $0 + $1.parameterCount }
                let experts = moeLayers * 2 * perExpert  // 8 experts over EP=4: 2 per rank
                let count = full - moeLayers * 6 * perExpert
                local += count
                owned +=
                    CollectivePlan.evenSplit(count - experts, into: 8)[d]
                    + CollectivePlan.evenSplit(experts, into: 2)[r]
            }
            #expect(Array(first.peaks[gpu].prefix(3)) == [2 * local, 2 * local, 12 * owned], "\(kind) gpu\(gpu)")
            // Activations: the schedule's peak count of in-flight micro-batches × one micro-batch's bytes (1F1B:
            // one stage per rank; DualPipe's ranks hold the embedding and the head stage, of different sizes).
            let perMicroBatch = first.report.activationBytesPerMicroBatch[gpu]
            if kind == .oneFOneB, let bytes = perMicroBatch.first {
                let count = try schedule.analyze(
                    durations: OpDurations(
                        forward: .microseconds(1), backwardInput: .microseconds(1), backwardWeight: .microseconds(1))
                ).peakActivations[p]
                #expect(first.peaks[gpu][3] == count * bytes, "gpu\(gpu)")
            }
        }
    }

    /// The first F&B cell on gpu0 (DualPipe, small model, phantom): its compute stream runs the first layer pair
    /// in the order of DeepSeek's published profile (forward attention, backward MLP, MLP W, forward MLP, backward
    /// attention, attention W), the forward's dispatch runs under the backward's MLP B and W and its combine under
    /// the backward's attention.
    @Test func fAndBCellFollowsDeepSeeksProfile() throws {
        let simulation = Simulation(seed: 0)
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 2), in: simulation)
        let layout = try ParallelLayout(
            pipelineStages: 2, expertParallel: 8, dataParallelReplicas: 1, gpuCount: 16, gpusPerNode: 8,
            expertCount: 16)
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: 2, microBatches: 8)
        let preset = ModelPreset.small
        let training = TrainingConfig(
            seed: 1, steps: 1, microBatchesPerStep: 64, sequencesPerMicroBatch: preset.sequencesPerMicroBatch,
            sequenceLength: preset.sequenceLength)
        let trainer = try DistributedTrainer(
            layout: layout, cluster: cluster, schedule: schedule, config: try preset.config(layers: 4),
            training: training, phantom: true)
        trainer.start()
        #expect(simulation.run() == .finished)
        let events = simulation.trace.events.filter { $0.actor == "gpu0" }
        let cell = try #require(events.first { $0.lane == "pipeline" && $0.name.hasPrefix("F&B") })
        let inCell = events.filter { $0.start >= cell.start && $0.end <= cell.end }
        func start(_ lane: String, _ matches: (String) -> Bool) throws -> (SimInstant, SimInstant) {
            let event = try #require(inCell.first { $0.lane == lane && matches($0.name) }, "\(lane)")
            return (event.start, event.end)
        }
        // The cell pairs forward layer 2 (stage 1's first) with backward layer 1 (stage 0's last).
        let order = try [
            start("compute") { $0.hasSuffix("F layers.2.attention") },
            start("compute") { $0 == "linear-2 B" },  // the experts' B starts with Linear-2's
            start("compute") { $0 == "experts W" },
            start("compute") { $0 == "linear-1 F" },
            start("compute") { $0.hasSuffix("B layers.1.attention") },
            start("compute") { $0.hasSuffix("W layers.1.attention") },
        ].map(\.0)
        #expect(order == order.sorted() && Set(order).count == order.count, "\(order)")
        let dispatch = try start("moe") { $0 == "dispatch layers.2.moe" }
        let combine = try start("moe") { $0 == "combine layers.2.moe" }
        let expertsB = try start("compute") { $0 == "linear-2 B" }
        let expertsW = try start("compute") { $0 == "experts W" }
        let attentionB = try start("compute") { $0.hasSuffix("B layers.1.attention") }
        // The forward's dispatch (payload) runs while the backward's MLP B and W occupy the compute SMs.
        #expect(dispatch.0 < expertsW.1 && dispatch.1 > expertsB.0, "dispatch \(dispatch)")
        #expect(combine.0 < attentionB.1 && combine.1 > attentionB.0, "combine \(combine) vs \(attentionB)")
    }

    /// `commSMCount` moves every GPU's split when the run starts: fewer compute SMs stretch the kernels (small
    /// model, phantom); the numbers stay the same (tiny model, real).
    @Test func commSMsMoveTheSplit() throws {
        func run(_ commSMs: Int?, preset: ModelPreset) throws -> (SimDuration, [Int], ParameterSet) {
            let simulation = Simulation(seed: 0)
            let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 1), in: simulation)
            let schedule = try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2)
            var training = tinyTraining(microBatches: 2, steps: 1)
            training.sequenceLength = preset.sequenceLength
            training.sequencesPerMicroBatch = preset.sequencesPerMicroBatch
            let trainer = try PipelineTrainer(
                schedule: schedule, config: try preset.config(layers: 2), training: training, costs: .model,
                gpus: Array(cluster.gpus.prefix(2)), phantom: preset != .tiny, commSMCount: commSMs)
            trainer.start()
            #expect(simulation.run() == .finished)
            let split = cluster.gpus.prefix(2).map { gpu in simulation.inspect(gpu.compute) { $0.smCount } }
            let report = try trainer.report()
            return (try #require(report.steps.first?.report.stepTime), split, report.parameters)
        }
        let (defaultTime, defaultSplit, _) = try run(nil, preset: .small)
        let (fewerTime, fewerSplit, _) = try run(100, preset: .small)
        #expect(defaultSplit == [112, 112] && fewerSplit == [32, 32])
        #expect(fewerTime > defaultTime)
        #expect(try run(100, preset: .tiny).2 == run(nil, preset: .tiny).2)
    }

    /// The EP layers' overlap modes inside the trainer (`train mode=`): bit-identical parameters and losses, the
    /// step time differs.
    @Test func modesKeepTheNumbers() throws {
        let runs = try [EPMode.serial, .comet, .waved].map {
            try Self.run(.oneFOneB, ep: 4, replicas: 2, microBatches: 2, steps: 1, mode: $0)
        }
        for run in runs.dropFirst() {
            #expect(run.report.parameters == runs[0].report.parameters)
            #expect(run.report.steps.map(\.report.loss) == runs[0].report.steps.map(\.report.loss))
        }
        let times = runs.compactMap { $0.report.steps.first?.report.stepTime }
        #expect(Set(times).count == 3, "\(times)")
    }

    /// DualPipe with stages of different lengths (5 layers over 2 stages: 3 and 2), so each GPU's two copies
    /// differ in length and their F&B chunks' all-to-alls run at once: still equal to the reference.
    @Test func unevenStagesEqualTheReference() throws {
        let run = try Self.run(.dualPipe, ep: 8, replicas: 1, microBatches: 4, steps: 1, layers: 5)
        var reference = try ReferenceTrainer(config: run.config, training: run.training)
        _ = try reference.train()
        #expect(try run.report.maxRelativeDifference(to: reference.parameters) <= 1e-5)
        #expect(run.report.copiesAgree)
    }

    /// EP groups that do not hold the layout's GPUs are refused before anything runs, naming the group and rank.
    /// `replicas=once` over two steps, ZeRO-1 under the schedule or after it: every step finishes, each
    /// shadow (data indices 4…7) reports its twin's step, and the step times stay within the stated 2 %.
    @Test(arguments: [false, true])
    func replicasOnceFollowTheirTwins(zeroOverlap: Bool) throws {
        func run(once: Bool) throws -> Run {
            try Self.run(
                .dualPipe, ep: 4, replicas: 2, microBatches: 4, phantom: true, zeroOverlap: zeroOverlap,
                replicasOnce: once)
        }
        let all = try run(once: false)
        let once = try run(once: true)
        #expect(once.report.steps.count == 2)
        for (step, full) in zip(once.report.steps, all.report.steps) {
            let error = abs(step.report.stepTime.seconds / full.report.stepTime.seconds - 1)
            #expect(error <= 0.02, "\(step.report.stepTime) vs \(full.report.stepTime)")
            for (index, gpu) in step.report.gpus.enumerated() {
                #expect(gpu.breakdown == step.report.gpus[index - index % 8 + index % 4].breakdown, "gpu\(index)")
            }
        }
        // The shadows hold no activations of their own: only the twins ran micro-batches.
        #expect(once.peaks[4][3] == 0 && once.peaks[0][3] > 0)
    }

    @Test func replicasOnceIsRefusedWithoutIdenticalReplicas() throws {
        for (replicas, phantom) in [(2, false), (1, true)] {
            #expect {
                try Self.run(
                    .oneFOneB, ep: 4, replicas: replicas, microBatches: 2, phantom: phantom, replicasOnce: true)
            } throws: {
                "\($0)".contains("replicas=once emulates identical DP replicas once")
                    && "\($0)".contains("dp=\(4 * replicas), ep=4\(phantom ? ")" : ", real)")")
            }
        }
    }

    @Test func misplacedExpertGroupsAreRefused() throws {
        let simulation = Simulation(seed: 0)
        let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 1), in: simulation)
        let layout = try ParallelLayout(
            pipelineStages: 2, expertParallel: 4, dataParallelReplicas: 1, gpuCount: 8, gpusPerNode: 8, expertCount: 8)
        let swapped = try ParallelLayout.communicators(layout.expertGroups.reversed(), on: cluster)
        var options = ExpertParallelLayer.Options()
        options.fp8Dispatch = false
        #expect {
            try PipelineTrainer(
                schedule: try PipelineSchedule.generate(.oneFOneB, stages: 2, microBatches: 2),
                config: try ModelPreset.tiny.config(layers: 2), training: tinyTraining(microBatches: 8, steps: 1),
                costs: .model, gpus: Array(cluster.gpus.prefix(8)),
                dataGroups: try ParallelLayout.communicators(layout.dataGroups, on: cluster),
                expertGroups: PipelineExpertGroups(expertGroups: swapped, expertDataGroups: [], options: options))
        } throws: { "\($0)".contains("EP group 0 rank 0 is gpu4") }
    }
}
