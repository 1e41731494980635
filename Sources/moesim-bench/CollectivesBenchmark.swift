import ArgumentParser
import Collectives
import Foundation
import Hardware
import SimCore
import Tensors

/// `moesim-bench collectives`: nccl-tests-style size sweeps of every collective on a chosen topology.
struct CollectivesBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectives",
        abstract: "Sweep message sizes for each collective (phantom tensors) and print nccl-tests-style tables.")

    /// The clusters the sweep can run on; the communicator is every GPU.
    enum Topology: String, ExpressibleByArgument, CaseIterable {
        case h800Node = "h800-node"
        case twoNodes = "2-nodes"
        case eightNodes = "8-nodes"

        var nodeCount: Int {
            switch self {
            case .h800Node: 1
            case .twoNodes: 2
            case .eightNodes: 8
            }
        }
    }

    @Option(help: "Topology: h800-node, 2-nodes or 8-nodes (H800, rail-optimised IB between nodes).")
    var topology = Topology.h800Node
    @Option(help: "Smallest size S in bytes.") var minBytes = 1 << 10
    @Option(help: "Largest size S in bytes.") var maxBytes = 1 << 30
    @Option(help: "Size multiplier between rows (2 or 4).") var stepFactor = 4
    @Option(help: "Element type: fp32, bf16, fp16 or fp8e4m3.") var dtype = "bf16"
    @Option(help: "Collectives, comma-separated (default: all).") var kinds = CollectiveKind.allCases.map(\.rawValue)
        .joined(separator: ",")
    @Option(
        help: "Node counts for a sweep of all-reduce, reduce-scatter, all-gather (e.g. 1,2,4,8), with closed forms.")
    var nodes: String?
    @Option(help: "Algorithms of the node sweep, comma-separated: ring, hierarchical.") var algos = "ring,hierarchical"

    func validate() throws {
        guard stepFactor >= 2 else { throw ValidationError("--step-factor must be at least 2, got \(stepFactor)") }
        guard minBytes >= 1, maxBytes >= minBytes else {
            throw ValidationError("--min-bytes must be >= 1 and <= --max-bytes, got \(minBytes) and \(maxBytes)")
        }
        guard DType(rawValue: dtype) != nil else { throw ValidationError("unknown --dtype '\(dtype)'") }
        for name in kindNames where CollectiveKind(rawValue: name) == nil {
            let known = CollectiveKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("unknown collective '\(name)' (known: \(known))")
        }
    }

    private var kindNames: [String] { kinds.split(separator: ",").map { String($0) } }

    func run() throws {
        let type = DType(rawValue: dtype) ?? .bf16
        var sizes: [Int] = []
        var size = minBytes
        while size <= maxBytes {
            sizes.append(size - size % type.bytesPerElement)
            size *= stepFactor
        }
        if let nodes {
            let counts = nodes.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 && $0 <= 64 }
            let algorithms = algos.split(separator: ",").compactMap { CollectiveAlgorithm(rawValue: String($0)) }
            try nodeSweep(nodeCounts: counts, algorithms: algorithms, sizes: sizes.filter { $0 > 0 }, dtype: type)
            return
        }
        let gpuCount = topology.nodeCount * 8
        print("# moesim collectives: \(topology.rawValue), \(gpuCount) x H800, \(type), phantom tensors")
        for kind in kindNames.compactMap(CollectiveKind.init(rawValue:)) {
            let algorithms: [CollectiveAlgorithm] =
                kind == .allToAll && topology.nodeCount > 1 ? [.pairwise, .hierarchical] : [kind.defaultAlgorithm]
            for algorithm in algorithms {
                try sweep(kind, algorithm: algorithm, sizes: sizes.filter { $0 > 0 }, dtype: type)
            }
        }
    }

    private func sweep(_ kind: CollectiveKind, algorithm: CollectiveAlgorithm, sizes: [Int], dtype: DType) throws {
        let wallClock = ContinuousClock()
        let start = wallClock.now
        print("")
        print("# \(kind) (\(algorithm)), S = \(kind.sizeMeaning)")
        print(
            pad("size(B)", 12) + pad("count(elems)", 13) + pad("type", 8) + pad("time(us)", 12) + pad("algbw(GB/s)", 13)
                + pad("busbw(GB/s)", 13))
        for bytes in sizes {
            let simulation = Simulation(seed: 0, storesTraceEvents: false)
            let cluster =
                topology.nodeCount == 1
                ? try Cluster.singleNode(in: simulation)
                : try Cluster.railOptimized(nodeCount: topology.nodeCount, in: simulation)
            let result = try CollectiveRunner.run(
                kind, sizeBytes: bytes, on: try Communicator.world(of: cluster), algorithm: algorithm, dtype: dtype)
            print(
                pad("\(bytes)", 12) + pad("\(result.elementCount)", 13) + pad(dtype.rawValue, 8)
                    + pad(String(format: "%.2f", result.time.microseconds), 12)
                    + pad(String(format: "%.2f", result.algbwBytesPerSecond / 1e9), 13)
                    + pad(String(format: "%.2f", result.busbwBytesPerSecond / 1e9), 13))
        }
        let seconds = (wallClock.now - start).secondsValue
        print("# wall \(String(format: "%.2f", seconds)) s for \(sizes.count) sizes")
    }

    /// nccl-tests-style rows per (kind, algorithm, node count), with the closed form of `CollectiveCost`.
    private func nodeSweep(nodeCounts: [Int], algorithms: [CollectiveAlgorithm], sizes: [Int], dtype: DType) throws {
        print("# moesim collectives across nodes: H800 x 8 per node, rail-optimised IB, \(dtype), phantom tensors")
        print("# model(us): CollectiveCost (alpha-beta + first-chunk fill per step); ring across nodes: IB-rate bound")
        let kindList = kindNames.compactMap(CollectiveKind.init(rawValue:)).filter {
            [.allReduce, .reduceScatter, .allGather].contains($0)
        }
        for kind in kindList {
            for algorithm in algorithms {
                print("")
                print("# \(kind) (\(algorithm)), S = \(kind.sizeMeaning)")
                print(
                    pad("nodes", 6) + pad("size(B)", 12) + pad("time(us)", 12) + pad("algbw(GB/s)", 13)
                        + pad("busbw(GB/s)", 13) + pad("model(us)", 12) + pad("sim/model", 10) + pad("wall(s)", 9))
                for nodeCount in nodeCounts {
                    for bytes in sizes {
                        let wallClock = ContinuousClock()
                        let start = wallClock.now
                        let simulation = Simulation(seed: 0, storesTraceEvents: false)
                        let cluster =
                            nodeCount == 1
                            ? try Cluster.singleNode(in: simulation)
                            : try Cluster.railOptimized(nodeCount: nodeCount, in: simulation)
                        let result = try CollectiveRunner.run(
                            kind, sizeBytes: bytes, on: try Communicator.world(of: cluster), algorithm: algorithm,
                            dtype: dtype)
                        let cost = CollectiveCost(spec: cluster.spec)
                        let model =
                            algorithm == .hierarchical
                            ? cost.hierarchical(kind, nodes: nodeCount, gpusPerNode: 8, sizeBytes: Double(bytes))
                            : cost.ring(kind, ranks: nodeCount * 8, sizeBytes: Double(bytes))
                        print(
                            pad("\(nodeCount)", 6) + pad("\(bytes)", 12)
                                + pad(String(format: "%.2f", result.time.microseconds), 12)
                                + pad(String(format: "%.2f", result.algbwBytesPerSecond / 1e9), 13)
                                + pad(String(format: "%.2f", result.busbwBytesPerSecond / 1e9), 13)
                                + pad(String(format: "%.2f", model * 1e6), 12)
                                + pad(String(format: "%.3f", result.time.seconds / model), 10)
                                + pad(String(format: "%.2f", (wallClock.now - start).secondsValue), 9))
                    }
                }
            }
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }
}
