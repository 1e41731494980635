import Hardware
import SimCore
import Tensors

/// A simulation whose executor traps on any foreign enqueue, as every test wants.
func makeSimulation(seed: UInt64 = 0, storesTraceEvents: Bool = true) -> Simulation {
    let simulation = Simulation(seed: seed, storesTraceEvents: storesTraceEvents)
    simulation.executor.trapsOnForeignEnqueue = true
    return simulation
}

/// A phantom fp32 vector of exactly `bytes` bytes (a multiple of 4).
func phantomMessage(bytes: Int) throws -> Tensor { try Tensor(phantom: [bytes / 4], dtype: .fp32) }

/// One message of a test: from, to, bytes, sent at `startNs`.
struct TestSend {
    let from: Int
    let to: Int
    let bytes: Int
    var startNs: Int64 = 0
}

/// Collects values that simulated processes report, keyed by an index.
actor Collector<Value: Sendable>: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var values: [Int: Value] = [:]  // lookup only, never iterated

    init(in simulation: Simulation) { self.simulation = simulation }

    func set(_ index: Int, _ value: Value) { values[index] = value }
}

extension Cluster {
    /// Starts every send at its `startNs`, runs the simulation to the end, and returns each arrival time in ns
    /// (for sends at 0 also their durations).
    func arrivalTimes(_ sends: [TestSend]) throws -> [Int64] {
        let collector = Collector<SimInstant>(in: simulation)
        let clock = simulation.clock
        for (index, send) in sends.enumerated() {
            let source = gpus[send.from]
            let message = try phantomMessage(bytes: send.bytes)
            simulation.spawn(name: "send\(index)") {
                try await clock.sleep(until: SimInstant(nanosecondsSinceStart: send.startNs))
                let handle = try await source.startSend(message, to: GPUID(send.to), tag: index)
                try await handle.wait()
                await collector.set(index, handle.deliveredAt ?? .start)
            }
        }
        let reason = simulation.run()
        guard reason == .finished else { throw TestFailure("simulation stopped with \(reason)") }
        let conservation = checkConservation()
        guard conservation.holds, conservation.deliveredCount == sends.count else {
            throw TestFailure("\(conservation)")
        }
        let values = simulation.inspect(collector) { $0.values }
        return sends.indices.map { values[$0]?.nanosecondsSinceStart ?? -1 }
    }

    /// The statistics of the link called `name`, read between steps.
    func stats(_ name: String) throws -> LinkStats {
        let link = try link(named: name)
        return simulation.inspect(link) { $0.statistics }
    }
}

/// An error a test helper throws to fail the test with a message.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Uncontended store-and-forward arrival of `k` equal chunks over hops with per-chunk times `chunkNs` and
/// latencies `latencyNs`: the first chunk crosses every hop, the other k-1 follow at the slowest hop's pace.
/// `Σ latency + Σ chunk time + (k-1) · max chunk time` = `Σ latency + bytes / bottleneck + pipeline fill`,
/// where the fill is the chunk time of every hop but the bottleneck.
func storeAndForwardNs(chunks k: Int, chunkNs: [Int64], latencyNs: [Int64]) -> Int64 {
    latencyNs.reduce(0, +) + chunkNs.reduce(0, +) + Int64(k - 1) * (chunkNs.max() ?? 0)
}

/// The ns one chunk of `bytes` takes at `bytesPerSecond`, rounded up as the links do.
func chunkNs(_ bytes: Int, _ bytesPerSecond: Double) -> Int64 {
    Int64((Double(bytes) * 1e9 / bytesPerSecond).rounded(.up))
}

extension ClusterSpec {
    /// The chunking the closed forms of these tests are written for: at most 4 chunks of at least 64 KiB.
    static func coarseChunks(
        nodeCount: Int, gpu: GPUSpec = .h800, routing: CrossRailRouting = .spine
    ) -> ClusterSpec {
        var spec = ClusterSpec(gpu: gpu, nodeCount: nodeCount)
        spec.crossRailRouting = routing
        spec.maxChunksPerMessage = 4
        spec.minChunkBytes = 64 * 1024
        return spec
    }
}
