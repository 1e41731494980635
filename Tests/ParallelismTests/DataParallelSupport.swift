import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore

/// What a data-parallel test run ends with: the result and every GPU's HBM.
struct DataParallelRun {
    var result: DataParallelResult
    var hbm: [HBM]
    var trainer: DataParallelTrainer
}

/// The `tiny` preset's DP config (3 steps, 2 layers by default: numerics in debug builds are slow).
func tinyConfig(
    stage: ZeROStage, steps: Int = 3, microBatches: Int = 1, layers: Int? = 2, isReal: Bool = true,
    bf16Moments: Bool = false
) throws -> DataParallelConfig {
    DataParallelConfig(
        model: try ModelPreset.tiny.config(layers: layers), stage: stage, steps: steps,
        microBatchesPerRank: microBatches,
        sequencesPerMicroBatch: ModelPreset.tiny.sequencesPerMicroBatch,
        sequenceLength: ModelPreset.tiny.sequenceLength, seed: 5, isReal: isReal, bf16Moments: bf16Moments)
}

/// Trains `config` on the first `ranks` GPUs of `cluster` (default: a fresh H800 node) and drives it to the end.
func trainDataParallel(_ config: DataParallelConfig, ranks: Int, cluster: Cluster? = nil) throws -> DataParallelRun {
    let simulation = Simulation(seed: 0)
    simulation.executor.trapsOnForeignEnqueue = true
    let cluster = try cluster ?? Cluster.singleNode(in: simulation)
    let communicator = try Communicator(cluster: cluster, ranks: (0..<ranks).map(GPUID.init))
    let trainer = try DataParallelTrainer(config: config, communicator: communicator)
    let box = ResultBox(simulation: cluster.simulation)
    cluster.simulation.spawn(name: "dp") { await box.store(try await trainer.run()) }
    let reason = cluster.simulation.run()
    guard reason == .finished, let result = cluster.simulation.inspect(box, { $0.result }) else {
        throw CollectiveError.simulationStopped(reason: reason.description)
    }
    return DataParallelRun(result: result, hbm: cluster.memoryReports(), trainer: trainer)
}

/// Holds the result for the driver to read.
actor ResultBox: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var result: DataParallelResult?
    init(simulation: Simulation) { self.simulation = simulation }
    func store(_ value: DataParallelResult) { result = value }
}

/// max |a − b| / max |b| over the whole vector.
func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    let scale = b.map { Double(abs($0)) }.max() ?? 1
    let diff = zip(a, b).map { Double(abs($0 - $1)) }.max() ?? 0
    return diff / max(scale, .leastNonzeroMagnitude)
}
