import ArgumentParser
import Collectives
import Foundation
import Hardware
import MoEModel
import Parallelism
import SimCore

/// `moesim-bench zero`: ZeRO stages 0-3 on the emulated cluster: memory by kind, step-time breakdown, DP bytes
/// per rank and wall time, for `small` on 8 GPUs and for DeepSeek-V3's Ψ on 64 GPUs (phantom).
struct ZeroBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zero",
        abstract: "ZeRO stages 0-3: memory by kind, step time, DP bytes per rank (small on 8 GPUs, dsv3 on 64).")

    @Flag(help: "Run small with real values (checked against nothing here; the tests do that).") var real = false
    @Option(help: "Micro-batches per DP rank per step.") var microBatches = 1
    @Flag(help: "Skip the DeepSeek-V3 (64 GPU) table.") var skipDSV3 = false
    @Option(help: "DeepSeek-V3 table: layers per ZeRO bucket (fewer, larger collectives).") var dsv3LayersPerBucket = 8
    @Option(help: "DeepSeek-V3 table: chunks per message (fewer events, a larger pipeline fill).")
    var dsv3Chunks = 4

    func run() throws {
        try table(preset: .small, nodes: 1, isReal: real)
        if !skipDSV3 { try table(preset: .dsv3, nodes: 8, isReal: false) }
    }

    private func table(preset: ModelPreset, nodes: Int, isReal: Bool) throws {
        let ranks = nodes * 8
        var spec = ClusterSpec(gpu: .h800, nodeCount: nodes)
        // DeepSeek-V3 without PP and EP does not fit any stage in 80 GB: report memory without enforcing it.
        let unbounded = preset == .dsv3
        if unbounded {
            spec.gpu.hbmBytes = 1 << 60
            spec.maxChunksPerMessage = dsv3Chunks
        }
        print("")
        print(
            "# zero: \(preset.rawValue) on \(ranks) x H800 (\(nodes) node(s)), 1 step, \(microBatches) micro-batch(es)"
                + " per rank, \(isReal ? "real" : "phantom")"
                + (unbounded
                    ? ", HBM not enforced, \(dsv3LayersPerBucket) layers per bucket, \(dsv3Chunks) chunks per message"
                    : ""))
        print(
            [
                "stage", "params", "grads", "optim", "activ", "step(ms)", "compute", "dp(exp)", "optim(ms)", "dp-bytes",
                "wall(s)",
            ].enumerated().map { pad($0.element, $0.offset == 0 ? 6 : 11) }.joined())
        for stage in ZeROStage.allCases {
            let wallClock = ContinuousClock()
            let start = wallClock.now
            let simulation = Simulation(seed: 0, storesTraceEvents: false)
            let cluster = try Cluster(spec, in: simulation)
            var config = DataParallelConfig(
                model: preset.config, stage: stage, steps: 1, microBatchesPerRank: microBatches,
                sequencesPerMicroBatch: preset.sequencesPerMicroBatch, sequenceLength: preset.sequenceLength,
                isReal: isReal)
            if unbounded { config.layersPerBucket = dsv3LayersPerBucket }
            let trainer = try DataParallelTrainer(config: config, communicator: try Communicator.world(of: cluster))
            try trainer.checkMemory(cluster.memoryReports())
            let box = BenchResultBox(simulation: simulation)
            simulation.spawn(name: "zero") { await box.store(try await trainer.run()) }
            let reason = simulation.run()
            guard reason == .finished, let result = simulation.inspect(box, { $0.result }),
                let report = result.steps.last
            else { throw ValidationError("the run stopped: \(reason)") }
            let hbm = cluster.memoryReports()[0]
            let phases = report.phases.map(\.duration)
            let cells =
                [MemoryKind.parameters, .gradients, .optimizerState, .activations].map { gigabytes(hbm.peakBytes($0)) }
                + ([report.stepTime] + phases).map { String(format: "%.3f", $0.seconds * 1e3) }
                + [
                    gigabytes(result.bytesSentPerRank.max() ?? 0),
                    String(format: "%.2f", (wallClock.now - start).secondsValue),
                ]
            print(pad("\(stage.rawValue)", 6) + cells.map { pad($0, 11) }.joined())
        }
        print("# memory and dp-bytes in GB (1e9 B) per GPU; compute, dp(exp) = exposed DP communication, optim in ms")
    }

    private func gigabytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1e9
        return value >= 0.01 ? String(format: "%.2f", value) : String(format: "%.2e", value)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }
}

/// Holds a run's result for the driver to read.
private actor BenchResultBox: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var result: DataParallelResult?
    init(simulation: Simulation) { self.simulation = simulation }
    func store(_ value: DataParallelResult) { result = value }
}
