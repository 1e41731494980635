import Hardware
import Testing

@testable import Scenario

/// Issue 16's bad input for DeepSeek-V3-shaped `train` lines: a layout that does not fit the cluster, a
/// micro-batch count DualPipe refuses, a step that does not fit in HBM. Each is refused when the line is read,
/// with the numbers, and nothing is started.
@Suite(.serialized) struct TrainPreflightTests {
    static let mini = "train model=dsv3-mini pp=4 ep=16 dp=32 zero=1 schedule=dualpipe"
    static let malformed: [(setup: String, line: String, error: String)] = [
        (
            "cluster preset=dsv3-mini",
            "train model=dsv3 pp=16 ep=64 dp=128 zero=1 schedule=dualpipe microbatches=120 phantom",
            "t.moesim:1:21: error: pp=16 × dp=128 needs 2048 GPUs for DualPipe, the cluster has 128"
        ),
        (
            "cluster preset=dsv3-mini", mini + " microbatches=9 phantom",
            "t.moesim:1:78: error: DualPipe needs an even number of micro-batches, got m=9"
        ),
        (
            "cluster preset=dsv3-mini", mini + " microbatches=6 phantom",
            "t.moesim:1:78: error: DualPipe needs at least 8 micro-batches, got m=6"
        ),
        (
            "cluster preset=dsv3-mini", "train model=dsv3-mini pp=4 ep=12 dp=24 zero=1 schedule=dualpipe phantom",
            "t.moesim:1:31: error: ep=12: does not divide the model's 256 routed experts"
        ),
        (
            "cluster preset=dsv3-mini", "train model=dsv3-mini pp=4 ep=16 dp=24 zero=1 schedule=dualpipe phantom",
            "t.moesim:1:37: error: dp=24 must be a multiple of ep=16 (dp = ep × dp-replica)"
        ),
        // GPipe holds all m micro-batches at once: 32 × 3.59 GB of activations on the last stage (full policy).
        (
            "cluster preset=dsv3-mini",
            "train model=dsv3-mini pp=4 ep=16 dp=32 zero=1 schedule=gpipe microbatches=32 phantom activations=full",
            "t.moesim:1:56: error: the step does not fit in HBM (GB = 1e9 bytes): gpu96 (pipeline rank 3, data index 0, "
                + "stage 3) needs 132.02 GB at the step's peak = parameters 5.60 GB + gradients 5.60 GB + optimizer "
                + "shard 5.99 GB + activations 114.82 GB (activations=full, 32 micro-batches in flight at the "
                + "schedule's peak: 32 of stage 3 × 3.59 GB), HBM 85.52 GB; 64 of 128 GPUs do not fit; nothing was run"
        ),
        // The preset's default (deepseek) keeps 2.40 GB per micro-batch of stage 3: still 32 of them too many.
        (
            "cluster preset=dsv3-mini",
            "train model=dsv3-mini pp=4 ep=16 dp=32 zero=1 schedule=gpipe microbatches=32 phantom",
            "t.moesim:1:56: error: the step does not fit in HBM (GB = 1e9 bytes): gpu96 (pipeline rank 3, data index 0, "
                + "stage 3) needs 93.91 GB at the step's peak = parameters 5.60 GB + gradients 5.60 GB + optimizer "
                + "shard 5.99 GB + activations 76.71 GB (activations=deepseek, 32 micro-batches in flight at the "
                + "schedule's peak: 32 of stage 3 × 2.40 GB), HBM 85.52 GB; 32 of 128 GPUs do not fit; nothing was run"
        ),
        (
            "cluster preset=dsv3-mini", mini + " phantom activations=fast",
            "t.moesim:1:85: error: 'fast' is not valid for activations (one of full, deepseek)"
        ),
        (
            "cluster preset=dsv3-mini", "train model=dsv3-mini dp=2 phantom activations=full",
            "t.moesim:1:36: error: activations= applies to the pipeline trainer (pp=, schedule= or ep=); the "
                + "data-parallel trainer runs BF16 without a schedule"
        ),
        // DualPipe's default m = 8 on GPUs of 30 GB (deepseek: stage 0's dense layers keep their SwiGLU inputs,
        // 1.24 GB against full's 0.53 GB; stage 3 2.40 GB against 3.59 GB).
        (
            "cluster preset=dsv3-mini hbm=30GB", mini + " phantom",
            "t.moesim:1:56: error: the step does not fit in HBM (GB = 1e9 bytes): gpu0 (pipeline rank 0, data index 0, "
                + "stages 0+3) needs 33.44 GB at the step's peak = parameters 9.79 GB + gradients 9.79 GB + optimizer "
                + "shard 6.51 GB + activations 7.35 GB (activations=deepseek, 5 micro-batches in flight at the "
                + "schedule's peak: 4 of stage 0 × 1.24 GB + 1 of stage 3 × 2.40 GB), HBM 30.00 GB; 64 of 128 GPUs do "
                + "not fit; nothing was run"
        ),
        // replicas=once needs replicas to emulate once: dp-replica > 1, ep > 1, phantom.
        (
            "cluster preset=dsv3-mini",
            "train model=dsv3-mini pp=4 ep=16 dp=16 zero=1 schedule=dualpipe phantom replicas=once",
            "t.moesim:1:82: error: replicas=once emulates identical DP replicas once: it needs a phantom run with "
                + "ep > 1 and dp-replica = dp/ep > 1 (here dp=16, ep=16)"
        ),
        (
            "cluster nodes=1", "train model=small pp=2 dp=4 ep=2 schedule=1f1b replicas=once",
            "t.moesim:1:57: error: replicas=once emulates identical DP replicas once: it needs a phantom run with "
                + "ep > 1 and dp-replica = dp/ep > 1 (here dp=4, ep=2, real)"
        ),
        (
            "cluster preset=dsv3-mini", mini + " phantom replicas=twice",
            "t.moesim:1:82: error: 'twice' is not valid for replicas (one of all, once)"
        ),
        (
            "cluster preset=dsv3-mini", "cluster preset=dsv3-mini hbm=0.5MB",
            "t.moesim:1:30: error: hbm=0.5MB is out of range: HBM must be between 1MiB and 1PiB"
        ),
        (
            "cluster preset=dsv3-mini", "cluster preset=dsv3-mini hbm=1.5B",
            "t.moesim:1:30: error: '1.5B' is 1.5 bytes, not a whole number of bytes"
        ),
    ]

    @Test(
        "bad DeepSeek-V3-shaped train lines are refused with the numbers, nothing started", arguments: malformed.indices
    )
    func malformedLine(index: Int) {
        let (setup, line, error) = Self.malformed[index]
        MalformedLineTests.check((line, error), after: [setup])
    }

    @Test("held bytes count: a step that fits an empty GPU is refused once the GPU is nearly full")
    func heldBytesCount() {
        MalformedLineTests.check(
            (
                Self.mini + " phantom activations=full",
                "t.moesim:1:56: error: the step does not fit in HBM (GB = 1e9 bytes): gpu0 (pipeline rank 0, data index "
                    + "0, stages 0+3) needs 31.79 GB at the step's peak = parameters 9.79 GB + gradients 9.79 GB + "
                    + "optimizer shard 6.51 GB + activations 5.70 GB (activations=full, 5 micro-batches in flight at the "
                    + "schedule's peak: 4 of stage 0 × 0.53 GB + 1 of stage 3 × 3.59 GB), HBM 85.52 GB, 25.52 GB free; "
                    + "1 of 128 GPUs do not fit; nothing was run"
            ), after: ["cluster preset=dsv3-mini", "alloc gpu=0 size=60GB"])
    }

    @Test("activations= completes as a train key and with its values")
    func activationsCompletion() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.completions(for: "train activ") == ["activations="])
        #expect(session.completions(for: "train activations=") == ["activations=full", "activations=deepseek"])
        #expect(session.completions(for: "train activations=d") == ["activations=deepseek"])
    }

    @Test("replicas= completes as a train key and with its values")
    func replicasCompletion() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.completions(for: "train replic") == ["replicas="])
        #expect(session.completions(for: "train replicas=") == ["replicas=all", "replicas=once"])
    }

    @Test("show step's HBM table states the policy and shows the planned activation peak")
    func showStepStatesThePolicy() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        #expect(session.execute("train pp=2 schedule=1f1b microbatches=4 costs=unit activations=deepseek") == .done)
        let train = try #require(session.component(TrainCommands.self))
        let planned = try #require(train.queuedPlan?.gpus.map(\.peakActivationBytes))
        #expect(session.execute("run") == .done)
        #expect(session.execute("show step") == .done)
        #expect(
            printed.contains {
                $0.hasPrefix("HBM peak per GPU during the step (") && $0.hasSuffix(", activations=deepseek):")
            })
        let measured = try #require(train.lastRun { $0.steps.last?.gpus.map { $0.peakBytes(.activations) } })
        #expect(measured == planned)
    }

    @Test("the dsv3-mini step fits its 80 GB GPUs and is queued")
    func miniDefaultsFit() {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        #expect(session.execute("cluster preset=dsv3-mini") == .done)
        #expect(session.execute(Self.mini + " microbatches=8 phantom") == .done, "\(printed.last ?? "")")
        #expect(session.simulation.liveProcessCount == 128)
    }

    /// DeepSeek-V3's step with every op's BF16 input and output kept from F to W and nothing recomputed
    /// (`activations=full`; BF16 AdamW moments, the preset's): DualPipe holds 17 four-MoE-layer micro-batches on
    /// the middle ranks, 84 GB of activations, so it is refused on 80 GB GPUs before any of its 2048 workers starts.
    @Test("the full DeepSeek-V3 step is refused on 80 GB H800s when every op's input and output is kept")
    func fullStepIsRefusedOnEightyGigabytes() {
        MalformedLineTests.check(
            (
                "train model=dsv3 pp=16 ep=64 dp=128 zero=1 schedule=dualpipe microbatches=120 phantom activations=full",
                "t.moesim:1:53: error: the step does not fit in HBM (GB = 1e9 bytes): gpu256 (pipeline rank 2, data "
                    + "index 0, stages 2+13) needs 102.84 GB at the step's peak = parameters 6.55 GB + gradients 6.55 GB "
                    + "+ optimizer shard 5.75 GB + activations 84.00 GB (activations=full, 17 micro-batches in flight at "
                    + "the schedule's peak: 14 of stage 2 × 4.94 GB + 3 of stage 13 × 4.94 GB), HBM 85.52 GB; 1792 of "
                    + "2048 GPUs do not fit; nothing was run"
            ), after: ["cluster preset=dsv3"])
    }

    /// Under DeepSeek-V3's own recipe (the preset's default, `activations=deepseek`: RMSNorm and MLA
    /// up-projections recomputed, FP8/E5M6 caching) a four-MoE-layer micro-batch keeps 4096 × 4 × 156,192 bytes
    /// = 2.56 GB, so the same 17 in flight take 43.50 GB and gpu256 peaks at 62.35 GB of its 85.52 GB: queued.
    @Test("the full DeepSeek-V3 step fits 80 GB H800s under DeepSeek's activation recipe")
    func fullStepFitsUnderDeepSeeksRecipe() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        #expect(session.execute("cluster preset=dsv3") == .done)
        #expect(
            session.execute("train model=dsv3 pp=16 ep=64 dp=128 zero=1 schedule=dualpipe microbatches=120 phantom")
                == .done, "\(printed.last ?? "")")
        let queued = try #require(printed.last)
        let plan = ", activations=deepseek (HBM plan: fullest gpu256 62.35 GB of 85.52 GB, activations 43.50 GB)"
        #expect(queued.contains(plan) && queued.hasSuffix(" on gpu0…gpu2047"), "\(queued)")
        let train = try #require(session.component(TrainCommands.self))
        let fullest = try #require(train.queuedPlan?.largestPeak)
        #expect(fullest.peakInFlight == [14, 3] && fullest.activations == .deepseek)
        #expect(fullest.activationBytesPerMicroBatch == [4 * 4096 * 156_192, 4 * 4096 * 156_192])
        #expect(fullest.peakActivationBytes == 17 * 4 * 4096 * 156_192)
        // The model states are the full policy's: 6.55 + 6.55 + 5.75 GB.
        #expect((18_845_000_000..<18_855_000_000).contains(fullest.modelStates.totalBytes))
        #expect(session.execute("expect train.plan_peak < 80GB") == .done)
        #expect(session.execute("expect train.plan_activations == \(fullest.peakActivationBytes)B") == .done)
    }
}
