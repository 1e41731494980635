import Collectives
import Hardware
import SimCore
import Tensors

extension ClusterCommands {
    static let collectiveKeys = ["size", "group", "algo", "dtype", "op", "root", "name"]
    /// The most elements a real (valued) collective may carry, as for `send … real`.
    static let maxRealElements = 64.0 * 1_048_576

    func registerCollectives() {
        session.register(
            Command(
                "collective",
                synopsis:
                    "collective KIND size=S [group=all|node:N|rail:N|gpu0-15|node0-1|gpuA,gpuB,…] "
                    + "[algo=ring|pairwise|hierarchical] [dtype=bf16] [op=sum|avg] [root=R] [name=NAME] [real]",
                summary: "queue a collective on a group of GPUs (run to execute it); S as in nccl-tests",
                details: CollectiveKind.allCases.map { "\($0.rawValue): S is \($0.sizeMeaning)" } + [
                    "busbw = S / time × factor: all-reduce 2(p-1)/p; all-gather, reduce-scatter, all-to-all (p-1)/p;",
                    "broadcast 1. hierarchical: all-to-all sends one IB transfer per target node, then NVLink;",
                    "all-reduce, reduce-scatter, all-gather run a ring per node (NVLink) and a ring per rail (IB).",
                    "name=NAME: read it as collective[NAME].time|algbw|busbw|size; a trace span per collective",
                ],
                completionWords: CollectiveKind.allCases.map(\.rawValue) + ["real"],
                argumentKeys: Self.collectiveKeys
            ) { [unowned self] line in try queueCollective(line) })
        session.registerValues(command: "collective", key: "algo") { CollectiveAlgorithm.allCases.map(\.rawValue) }
        session.registerValues(command: "collective", key: "group") { ["all", "node:0", "rail:0"] }
        session.registerValues(command: "collective", key: "op") { ReduceOp.allCases.map(\.rawValue) }
        session.registerValues(command: "collective", key: "dtype") { ["fp32", "bf16", "fp16", "fp8"] }
        registerCollectiveMetrics()
    }

    private func queueCollective(_ line: CommandLine) throws {
        try line.check(allowedKeys: Self.collectiveKeys, maxPositionals: 2)
        let cluster = try requireCluster(line)
        guard let kindToken = line.positionals.first else {
            throw line.error(
                "missing collective: " + CollectiveKind.allCases.map(\.rawValue).joined(separator: "|"),
                at: line.command)
        }
        guard let kind = CollectiveKind(rawValue: kindToken.text) else {
            let kinds = CollectiveKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw line.error("unknown collective '\(kindToken.text)' (one of \(kinds))", at: kindToken)
        }
        let real =
            try line.positionals.dropFirst().first.map { word throws(ScenarioError) -> Bool in
                guard word.text == "real" else {
                    throw line.error("expected 'real' or nothing, not '\(word.text)'", at: word)
                }
                return true
            } ?? false
        let communicator = try parseGroup(line, cluster: cluster)
        let sizeBytes = try line.quantity("size", .bytes)
        guard sizeBytes >= 1, sizeBytes <= 1e15, sizeBytes == sizeBytes.rounded() else {
            throw line.error(
                "size must be a whole number of bytes between 1 B and 1 PB", at: line.option("size") ?? line.command)
        }
        let algorithm =
            try line.option("algo").map { _ throws(ScenarioError) in
                CollectiveAlgorithm(rawValue: try line.choice("algo", CollectiveAlgorithm.allCases.map(\.rawValue)))
            } ?? nil
        let dtype = try line.dtype(default: .bf16)
        let op = ReduceOp(rawValue: try line.choice("op", ReduceOp.allCases.map(\.rawValue), default: "sum")) ?? .sum
        let root = try line.integer("root", in: 0...(communicator.size - 1), default: 0)
        let name = try workName(line)
        guard !real || sizeBytes / Double(dtype.bytesPerElement) <= Self.maxRealElements else {
            throw line.error(
                "real collectives are limited to \(Int(Self.maxRealElements)) elements; drop 'real' for phantom tensors",
                at: line.option("size") ?? line.command)
        }
        let prepared: CollectiveRunner.Prepared
        do {
            prepared = try CollectiveRunner.prepare(
                kind, sizeBytes: Int(sizeBytes), on: communicator, algorithm: algorithm, dtype: dtype, op: op,
                root: root, real: real)
        } catch {
            throw line.error(String(describing: error), at: kindToken)
        }
        spawnCollective(
            kind, prepared: prepared, communicator: communicator, sizeBytes: Int(sizeBytes), dtype: dtype, name: name)
        session.output(
            "queued \(name.map { "'\($0)': " } ?? "")\(kind) (\(prepared.algorithm)) of \(Quantity.format(sizeBytes, .bytes)) \(dtype) "
                + "\(real ? "real" : "phantom") on \(communicator.size) GPUs")
    }

    private func spawnCollective(
        _ kind: CollectiveKind, prepared: CollectiveRunner.Prepared, communicator: Communicator, sizeBytes: Int,
        dtype: DType, name: String?
    ) {
        let simulation = session.simulation
        guard let log = collectiveLog else { return }
        let runner = CollectiveRunner(communicator: communicator, tagBase: Self.collectiveTagBase + 4 * nextTag)
        // One trace lane per collective, so concurrent ones show side by side.
        let track = simulation.trace.track(actor: "collectives", lane: name ?? "\(kind) #\(nextTag)")
        nextTag += 1
        simulation.spawn(name: "\(name ?? kind.rawValue) on \(communicator.size) GPUs") {
            let start = simulation.now
            let outputs = try await runner.execute(prepared.plan, inputs: prepared.inputs)
            simulation.trace.span(
                track, name ?? kind.rawValue, start: start, end: simulation.now,
                args: [
                    "kind": .string(kind.rawValue), "algo": .string(prepared.algorithm.rawValue),
                    "bytes": .int(Int64(sizeBytes)), "ranks": .int(Int64(communicator.size)),
                ])
            await log.append(
                CollectiveResult(
                    kind: kind, algorithm: prepared.algorithm, rankCount: communicator.size, sizeBytes: sizeBytes,
                    elementCount: prepared.elementCount, dtype: dtype, time: simulation.now - start, outputs: outputs),
                name: name)
        }
    }

    /// Collective tags start here, far above the point-to-point ones.
    static let collectiveTagBase = 1 << 40

    private func registerCollectiveMetrics() {
        func last() -> CollectiveResult? {
            guard let collectiveLog else { return nil }
            return session.simulation.inspect(collectiveLog) { $0.results.last }
        }
        session.register(
            Metric("collective.last.time", .time, "duration of the last finished collective") { _ in
                last().map { Double($0.time.nanoseconds) }
            })
        session.register(
            Metric("collective.last.algbw", .bandwidth, "S / time of the last collective") { _ in
                last()?.algbwBytesPerSecond
            })
        session.register(
            Metric("collective.last.busbw", .bandwidth, "algbw × the nccl-tests factor") { _ in
                last()?.busbwBytesPerSecond
            })
        session.register(
            Metric("collective.last.size", .bytes, "S of the last collective") { _ in
                last().map { Double($0.sizeBytes) }
            })
        session.register(
            Metric("collective.completed", .number, "collectives finished so far") { [unowned self] _ in
                collectiveLog.map { log in Double(session.simulation.inspect(log) { $0.results.count }) }
            })
        registerNamedMetrics()
    }
}

/// Finished collectives, in completion order.
actor CollectiveLog: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var results: [CollectiveResult] = []
    /// The `name=` of each result, in the same order.
    private(set) var names: [String?] = []

    init(in simulation: Simulation) { self.simulation = simulation }

    func append(_ result: CollectiveResult, name: String? = nil) {
        results.append(result)
        names.append(name)
    }

    /// The finished collective called `name`.
    func result(named name: String) -> CollectiveResult? { names.firstIndex(of: name).map { results[$0] } }
}
