import ArgumentParser
import Foundation
import Hardware
import SimCore
import Tensors

/// `moesim-bench fabric`: a phantom all-to-all on the DeepSeek-V3 cluster, every GPU sending to other nodes.
struct FabricBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fabric",
        abstract: "Phantom all-to-all on the DeepSeek-V3 topology: each GPU sends messages to GPUs in other nodes.")

    @Option(help: "Nodes of 8 H800 (DeepSeek-V3: 256).") var nodes = 256
    @Option(help: "Messages each GPU sends.") var messages = 64
    @Option(help: "Bytes per message.") var bytes = 1 << 20
    @Option(help: "Cross-rail routing: spine or pxn.") var routing = "spine"
    @Option(help: "Seed of the destination pattern.") var seed: UInt64 = 1

    func validate() throws {
        guard nodes >= 2 else {
            throw ValidationError("--nodes must be at least 2 (messages go to other nodes), got \(nodes)")
        }
        guard messages >= 1, bytes >= 4, bytes % 4 == 0 else {
            throw ValidationError("--messages must be >= 1 and --bytes a positive multiple of 4")
        }
        guard ClusterSpec.CrossRailRouting(rawValue: routing) != nil else {
            throw ValidationError("--routing must be spine or pxn, got '\(routing)'")
        }
    }

    func run() throws {
        let wallClock = ContinuousClock()
        let buildStart = wallClock.now
        let simulation = Simulation(seed: seed, storesTraceEvents: false)
        var spec = Cluster.deepSeekV3Spec
        spec.nodeCount = nodes
        spec.crossRailRouting = ClusterSpec.CrossRailRouting(rawValue: routing) ?? .spine
        let cluster = try Cluster(spec, in: simulation)
        let rails = spec.gpusPerNode
        let gpuCount = spec.gpuCount
        // Message j goes `offsets[j]` nodes and `railShifts[j]` rails on: a permutation of the GPUs per j.
        var random = simulation.random.stream(named: "fabric-bench")
        let offsets = (0..<messages).map { _ in 1 + Int(random.next() % UInt64(nodes - 1)) }
        let railShifts = (0..<messages).map { _ in Int(random.next() % UInt64(rails)) }
        let message = try Tensor(phantom: [bytes / 4], dtype: .fp32)
        func peer(of gpu: Int, _ j: Int, _ direction: Int) -> GPUID {
            let node = (gpu / rails + direction * offsets[j] + nodes) % nodes
            let rail = (gpu % rails + direction * railShifts[j] + rails) % rails
            return GPUID(node * rails + rail)
        }
        for gpu in cluster.gpus {
            let index = gpu.id.index
            simulation.spawn(name: gpu.name) {
                var handles: [SendHandle] = []
                handles.reserveCapacity(messages)
                for j in 0..<messages {
                    handles.append(try await gpu.startSend(message, to: peer(of: index, j, 1), tag: j))
                }
                for j in 0..<messages { _ = try await gpu.receive(from: peer(of: index, j, -1), tag: j) }
                for handle in handles { try await handle.wait() }
            }
        }
        let buildSeconds = (wallClock.now - buildStart).secondsValue
        let runStart = wallClock.now
        let reason = simulation.run()
        let runSeconds = (wallClock.now - runStart).secondsValue
        guard reason == .finished else { throw ValidationError("simulation stopped early: \(reason)") }
        let totalBytes = Double(gpuCount * messages * bytes)
        let virtualSeconds =
            simulation.now.nanosecondsSinceStart == 0 ? 0 : Double(simulation.now.nanosecondsSinceStart) / 1e9
        let events = simulation.eventCount
        print("fabric: \(gpuCount) GPUs x \(messages) messages of \(bytes) bytes (phantom), routing \(routing)")
        print("  build \(format(buildSeconds)) s, run \(format(runSeconds)) s wall")
        print("  \(events) events, \(format(Double(events) / runSeconds / 1e6)) M events/s")
        print("  \(simulation.trace.eventCount) trace events, trace hash \(String(simulation.trace.hash, radix: 16))")
        print("  virtual time \(simulation.now), aggregate \(format(totalBytes / virtualSeconds / 1e12)) TB/s")
        print("  peak RSS \(ProcessMemory.peakDescription())")
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}
