import Foundation
import Hardware
import SimCore
import Tensors

/// The emulated cluster of a session: `cluster` builds it, `send`, `alloc`, `free` and `kernel` queue work on it,
/// `show gpu|links|memory|route` and the `gpu[…]`/`link[…]` metrics read it between steps.
final class ClusterCommands {
    unowned let session: ScenarioSession
    private(set) var spec: ClusterSpec
    private(set) var cluster: Cluster?
    /// Completed point-to-point transfers, recorded by the receiving process.
    private(set) var transfers: TransferLog?
    /// Finished collectives.
    private(set) var collectiveLog: CollectiveLog?
    /// Trace lanes of unnamed collectives, reused once their last span ended.
    private(set) var collectiveLanes = CollectiveLanes()
    var nextTag = 1
    /// Names given with `name=` so far (on this simulation), to refuse a second use.
    var usedNames: [String] = []

    init(session: ScenarioSession, spec: ClusterSpec) {
        self.session = session
        self.spec = spec
        session.onReset { [unowned self] simulation in build(on: simulation) }
        registerClusterCommand()
        registerWork()
        registerCollectives()
        registerInspection()
        build(on: session.simulation)
    }

    /// Builds the cluster from `spec` on `simulation`; the spec was validated before, so failure is a bug.
    private func build(on simulation: Simulation) {
        cluster = try? Cluster(spec, in: simulation)
        transfers = TransferLog(in: simulation)
        collectiveLog = CollectiveLog(in: simulation)
        collectiveLanes = CollectiveLanes()
        usedNames = []
    }

    /// The cluster, or an error at `token` if there is none.
    func requireCluster(_ line: CommandLine) throws(ScenarioError) -> Cluster {
        guard let cluster else {
            throw line.error("no cluster: build one with 'cluster preset=h800-node'", at: line.command)
        }
        return cluster
    }

    private func registerClusterCommand() {
        let keys = [
            "preset", "nodes", "gpus-per-node", "gpu", "nvlink", "ib", "comm-sms", "comm-sm-bw", "routing",
            "spines", "spine-bw", "chunks", "min-chunk", "hbm", "trace", "phantom-flows",
        ]
        session.register(
            Command(
                "cluster", synopsis: "cluster [preset=NAME] [nodes=N gpu=h800 nvlink=… ib=… comm-sms=20 …]",
                summary: "build the emulated cluster (replaces the world, time restarts at 0)",
                details: ClusterPreset.allCases.map { "preset=\($0.rawValue): \($0.summary)" } + [
                    "overrides: nodes=N gpus-per-node=8 gpu=h800|h100|h200 nvlink=160GB/s ib=50GB/s comm-sms=20",
                    "           comm-sm-bw=10.5GB/s (per comm SM; default: 20 SMs saturate one NVLink port + one NIC)",
                    "           routing=spine|pxn spines=N spine-bw=50GB/s chunks=1024 min-chunk=512KiB",
                    "           hbm=80GB (HBM capacity per GPU; every other figure stays the GPU's)",
                    "approximation: min-chunk=8MiB cuts messages into fewer, larger chunks (fewer events; docs give",
                    "           the measured error); trace=hash keeps only the trace's hash, not its events (less memory)",
                    "approximation: phantom-flows=on sends every phantom message as one bulk flow booked on its",
                    "           route's links (first come, first served per link) instead of chunks: a few events per",
                    "           message; real tensors always travel in chunks",
                ],
                argumentKeys: keys
            ) { [unowned self] line in
                try line.check(allowedKeys: keys, maxPositionals: 0)
                spec = try clusterSpec(from: line)
                session.resetSimulation(
                    storesTraceEvents: try line.choice("trace", ["full", "hash"], default: "full") == "full")
                session.output(describe(spec))
            })
        session.registerValues(command: "cluster", key: "preset") { ClusterPreset.allCases.map(\.rawValue) }
        session.registerValues(command: "cluster", key: "gpu") { GPUSpec.presets.map(\.name) }
        session.registerValues(command: "cluster", key: "trace") { ["full", "hash"] }
        session.registerValues(command: "cluster", key: "phantom-flows") { ["on", "off"] }
        session.registerValues(command: "cluster", key: "routing") {
            ClusterSpec.CrossRailRouting.allCases.map(\.rawValue)
        }
    }

    private func clusterSpec(from line: CommandLine) throws(ScenarioError) -> ClusterSpec {
        let presetName = try line.choice("preset", ClusterPreset.allCases.map(\.rawValue), default: "h800-node")
        var spec = ClusterPreset(rawValue: presetName)?.spec ?? ClusterSpec()
        if let gpuToken = line.option("gpu") {
            guard let gpu = GPUSpec.presets.first(where: { $0.name == gpuToken.text.lowercased() })?.spec else {
                let names = GPUSpec.presets.map(\.name).joined(separator: ", ")
                throw line.error("unknown GPU '\(gpuToken.text)' (one of \(names))", at: gpuToken)
            }
            spec.gpu = gpu
        }
        spec.gpu.hbmBytes = try Self.hbmBytes(line, default: spec.gpu.hbmBytes)
        spec.nodeCount = try line.integer("nodes", in: 1...4096, default: spec.nodeCount)
        spec.gpusPerNode = try line.integer("gpus-per-node", in: 1...64, default: spec.gpusPerNode)
        spec.commSMCount = try line.integer("comm-sms", in: 1...(spec.gpu.smCount - 1), default: spec.commSMCount)
        spec.gpu.nvlinkBytesPerSecond = try Self.rate("nvlink", line, default: spec.gpu.nvlinkBytesPerSecond)
        spec.gpu.nicBytesPerSecond = try Self.rate("ib", line, default: spec.gpu.nicBytesPerSecond)
        // By default the comm SMs keep saturating one NVLink port plus one NIC, whatever their speeds.
        spec.gpu.bytesPerSecondPerSM = try Self.rate(
            "comm-sm-bw", line,
            default: GPUSpec.saturatingBytesPerSecondPerSM(
                nvlink: spec.gpu.nvlinkBytesPerSecond, nic: spec.gpu.nicBytesPerSecond))
        let routing = try line.choice(
            "routing", ClusterSpec.CrossRailRouting.allCases.map(\.rawValue), default: "spine")
        spec.crossRailRouting = ClusterSpec.CrossRailRouting(rawValue: routing) ?? .spine
        if line.option("spines") != nil { spec.spineCount = try line.integer("spines", in: 1...65_536) }
        if line.option("spine-bw") != nil { spec.spineLinkBytesPerSecond = try Self.rate("spine-bw", line) }
        spec.maxChunksPerMessage = try line.integer("chunks", in: 1...65_536, default: spec.maxChunksPerMessage)
        let minChunk = try line.quantity("min-chunk", .bytes, default: Double(spec.minChunkBytes))
        guard minChunk >= 1, minChunk <= 1_099_511_627_776 else {
            throw line.error("min-chunk must be between 1 B and 1 TiB", at: line.option("min-chunk") ?? line.command)
        }
        spec.minChunkBytes = Int(minChunk)
        spec.phantomMessagesAsFlows = try line.choice("phantom-flows", ["on", "off"], default: "off") == "on"
        do {
            try spec.validate()
        } catch {
            throw line.error("invalid cluster: \(error)", at: line.command)
        }
        return spec
    }

    /// `hbm=`: a whole number of bytes from 1 MiB to 1 PiB (the caret on the value), else `defaultValue`.
    private static func hbmBytes(_ line: CommandLine, default defaultValue: Int) throws(ScenarioError) -> Int {
        guard let token = line.option("hbm") else { return defaultValue }
        let value = try line.quantity("hbm", .bytes)
        guard value >= 1_048_576, value <= 1_125_899_906_842_624 else {
            throw line.error("hbm=\(token.text) is out of range: HBM must be between 1MiB and 1PiB", at: token)
        }
        return Int(value)
    }

    /// The bandwidth given for `key`, at least 1 MB/s (the fabric's floor), the error on the value.
    private static func rate(_ key: String, _ line: CommandLine, default defaultValue: Double? = nil)
        throws(ScenarioError) -> Double
    {
        let value = try line.quantity(key, .bandwidth, default: defaultValue)
        guard let token = line.option(key), value < 1e6 else { return value }
        throw line.error("\(key)=\(token.text) is too slow: a bandwidth must be at least 1MB/s", at: token)
    }

    private func describe(_ spec: ClusterSpec) -> String {
        let gpu = spec.gpu
        return "cluster: \(spec.nodeCount) node(s) × \(spec.gpusPerNode) \(gpu.name) = \(spec.gpuCount) GPUs; "
            + "\(gpu.smCount) SMs (\(spec.commSMCount) for communication), "
            + "HBM \(Quantity.format(Double(gpu.hbmBytes), .bytes)), "
            + "NVLink \(Quantity.format(gpu.nvlinkBytesPerSecond, .bandwidth)), "
            + "IB \(Quantity.format(gpu.nicBytesPerSecond, .bandwidth)), routing \(spec.crossRailRouting.rawValue)"
            + (Self.approximations(spec).map { "; approximation: " + $0 } ?? "")
            + (session.storesTraceEvents ? "" : "; trace: hash only")
    }

    /// The approximations the spec asks for (coarser message chunks, phantom messages as flows), or nil.
    static func approximations(_ spec: ClusterSpec) -> String? {
        let standard = ClusterSpec()
        var parts: [String] = []
        if spec.minChunkBytes > standard.minChunkBytes || spec.maxChunksPerMessage < standard.maxChunksPerMessage {
            parts.append(
                "messages cut into chunks of at least \(Quantity.format(Double(spec.minChunkBytes), .bytes)), "
                    + "at most \(spec.maxChunksPerMessage) per message (full emulation: "
                    + "\(Quantity.format(Double(standard.minChunkBytes), .bytes)), \(standard.maxChunksPerMessage))")
        }
        if spec.phantomMessagesAsFlows {
            parts.append("phantom messages as bulk flows (phantom-flows=on; full emulation: chunks)")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// Point-to-point transfers completed so far, recorded in virtual time by the receiving processes.
actor TransferLog: SimulatedActor {
    struct Record: Sendable {
        var source: Int
        var destination: Int
        var bytes: Int
        var start: SimInstant
        var end: SimInstant
        var valuesMatch: Bool
        /// The `name=` the send was given, if any.
        var name: String? = nil
    }

    nonisolated let simulation: Simulation
    private(set) var records: [Record] = []

    init(in simulation: Simulation) { self.simulation = simulation }

    func append(_ record: Record) { records.append(record) }
}
