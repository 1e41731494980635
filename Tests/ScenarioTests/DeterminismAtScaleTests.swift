import Testing

@testable import Scenario

/// One seed, one world: a composed scenario (collectives, point-to-point messages, a seeded fault swarm, an
/// expert-parallel layer with a phantom gate and a pipeline training step on a seeded dataset) run twice for
/// each of 100 seeds gives identical trace hashes and results; different seeds draw different faults, gates
/// and batches.
@Suite("Determinism at scale", .serialized)
struct DeterminismAtScaleTests {
    /// Two nodes of 8 GPUs; four random faults (links down or degraded, stragglers) inside the first 20 µs,
    /// three collectives across nodes and rails (one with real values, small: tensor math is slow in debug
    /// builds), two messages, an EP4 layer across both nodes (phantom tokens, gate drawn from the seed) and
    /// one 1F1B step of a 2-layer tiny model on PP=2. The step has real values (micro-batches drawn from the
    /// seed) for every `realTrainingEvery`-th seed and is phantom otherwise: real training costs about 0.1 s
    /// per run in a debug build, so all 200 runs stay within a few seconds.
    static func composedScenario(seed: UInt64) -> [String] {
        [
            "cluster nodes=2 chunks=2 min-chunk=64KiB", "fault random count=4 until=20us",
            "collective all-reduce size=64KiB group=gpu0,gpu1,gpu2,gpu9",
            "collective all-to-all size=32KiB group=rail:1",
            "collective all-gather size=8KiB group=gpu12,gpu13,gpu4 real", "send from=gpu0 to=gpu9 size=8KiB real",
            "send from=gpu12 to=gpu3 size=256KiB",
            "moe tokens=8 hidden=128 expert-hidden=16 experts=4 topk=2 group=gpu0,gpu1,gpu8,gpu9",
            "train model=tiny layers=2 pp=2 schedule=1f1b microbatches=2 "
                + (seed % realTrainingEvery == 0 ? "real" : "phantom"),
            "run", "check",
        ]
    }

    static let realTrainingEvery: UInt64 = 10

    /// What one run of the composed scenario gives: its trace hash, the EP layer's bytes on the wire (set by
    /// the gate's routing) and the training step's loss (set by the batch; nil when phantom).
    struct Outcome: Equatable {
        var traceHash: UInt64
        var epBytes: Double
        var loss: Double?
    }

    /// The outcome of the composed scenario under `seed`, after checking every line succeeded.
    static func outcome(seed: UInt64) -> Outcome? {
        let session = ScenarioSession(seed: seed, output: { _ in })
        for line in composedScenario(seed: seed) where session.execute(line) != .done { return nil }
        guard session.simulation.liveProcessCount == 0 else { return nil }
        let print = CommandLine(
            command: Token(text: "print", column: 1, length: 5, isQuoted: false), positionals: [], options: [],
            file: "t", lineNumber: 1, source: "print")
        func value(_ metric: String) -> Double? {
            try? session.resolve(Token(text: metric, column: 7, length: metric.count, isQuoted: false), in: print).1
        }
        guard let nvlink = value("moe.last.nvlink_bytes"), let ib = value("moe.last.ib_bytes"),
            value("train.steps") == 1
        else { return nil }
        return Outcome(traceHash: session.simulation.trace.hash, epBytes: nvlink + ib, loss: value("train.loss[0]"))
    }

    @Test("100 seeds x 2 runs: identical traces and results per seed; the seeds' faults, gates and batches differ")
    func hundredSeedsTwice() {
        var outcomes: [Outcome] = []
        for seed in UInt64(0)..<100 {
            let first = Self.outcome(seed: seed)
            let second = Self.outcome(seed: seed)
            #expect(first != nil, "seed \(seed): a line failed or a process was left running")
            #expect(first == second, "seed \(seed)")
            if let first { outcomes.append(first) }
        }
        // Each fault's start and end is a trace instant, so seeds that draw different faults trace differently.
        let traces = Set(outcomes.map(\.traceHash)).count
        #expect(traces == 100, "only \(traces) distinct traces over 100 seeds")
        // The phantom gate routes 8 tokens per rank with the seed: a fixed gate would give one byte count.
        let routings = Set(outcomes.map(\.epBytes)).count
        #expect(routings >= 10, "only \(routings) distinct EP byte counts over 100 seeds")
        // The dataset draws each seed's micro-batches: the real steps' losses all differ.
        let losses = outcomes.compactMap(\.loss)
        #expect(losses.count == 100 / Int(Self.realTrainingEvery))
        #expect(Set(losses).count == losses.count, "losses \(losses)")
    }
}
