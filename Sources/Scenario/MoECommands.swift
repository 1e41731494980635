import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore

/// The `moe` command and the `moe.*` metrics: one expert-parallel MoE layer on an EP group of the cluster.
///
/// `moe …` queues one process per EP rank (run to execute); the metrics summarise the last run, or the run
/// named `name=` under `moe[NAME].…`.
final class MoECommands {
    unowned let session: ScenarioSession
    unowned let clusterCommands: ClusterCommands
    /// Queued runs, in order.
    private(set) var runs: [Entry] = []

    /// One queued run and its report once the simulation finished it.
    final class Entry {
        let name: String?
        let run: EPRun
        var report: EPRunReport?

        init(name: String?, run: EPRun) {
            self.name = name
            self.run = run
        }
    }

    static let argumentKeys = [
        "tokens", "hidden", "expert-hidden", "experts", "topk", "node-limit", "shared", "group", "gate", "skew",
        "dispatch", "name", "preset", "mode", "waves", "experts-per-wave", "comet-blocks", "expert-precision",
        "gemm-rates", "a2a",
    ]

    init(session: ScenarioSession, clusterCommands: ClusterCommands) {
        self.session = session
        self.clusterCommands = clusterCommands
        session.onReset { [unowned self] _ in runs = [] }
        session.register(
            Command(
                "moe",
                synopsis:
                    "moe tokens=N (preset=v4-flash|v4-pro | hidden=H expert-hidden=D experts=E topk=K) "
                    + "[node-limit=M] [shared=S] [group=all|gpu0-63|node0-7] [gate=sigmoid|softmax] [skew=F] "
                    + "[dispatch=fp8|bf16] [mode=serial|comet|waved] [waves=N|experts-per-wave=N] [comet-blocks=N] "
                    + "[expert-precision=bf16|fp8|fp4|fp4x4] [gemm-rates=published|peak] [a2a=messages|flows] [name=NAME] [backward] [real|phantom]",
                summary: "queue one expert-parallel MoE layer on an EP group (run to execute); tokens per rank",
                details: [
                    "dispatch fp8 (default; hidden + 4·hidden/128 scales + 16 B metadata per token and target, hidden",
                    "a multiple of 128) or bf16 (2·hidden + 16 B); combine and gradients BF16; across nodes a token",
                    "crosses IB once per node, to the same-index GPU, then NVLink. node-limit: nodes a token may",
                    "reach (groups = nodes). skew: fraction of tokens sent to the hot experts 0..k-1. Phases",
                    "start together on every rank, as DeepEP's tests time them.",
                    "phantom (default): seeded random gate as DeepEP's tests; real: values checked against the",
                    "single-device layer (moe.last.max_error). mode: serial (dispatch, Linear-1, SwiGLU, Linear-2,",
                    "combine in sequence), comet (Linear-1 tiles as rows arrive, Linear-2 column blocks combined as",
                    "they finish), waved (local experts in waves, DeepGEMM's wave rule unless waves= or",
                    "experts-per-wave=); backward (B) follows the same mode; same values in every mode. Prints the",
                    "wave plan and V4's balance rule. gemm-rates=published (default): FP8 expert GEMMs on H800s at",
                    "DeepGEMM's published grouped figures (>= 4096 rows per expert), else at the datasheet peak.",
                    "a2a=messages (default): every all-to-all as chunked messages; a2a=flows (phantom only): each as",
                    "bulk flows booked on the same links with the same bytes, a few events per rank instead of",
                    "hundreds of messages; other traffic sees them only as flows too (cluster phantom-flows=on);",
                    "docs/ARCHITECTURE.md states the measured error.",
                ],
                completionWords: ["backward", "real", "phantom"],
                argumentKeys: Self.argumentKeys
            ) { [unowned self] line in try queue(line) })
        session.registerValues(command: "moe", key: "dispatch") { ["fp8", "bf16"] }
        session.registerValues(command: "moe", key: "gate") { GateKind.allCases.map(\.rawValue) }
        session.registerValues(command: "moe", key: "group") { ["all", "gpu0-15", "node0-1"] }
        session.registerValues(command: "moe", key: "preset") { EPShapePreset.all.map(\.name) }
        session.registerValues(command: "moe", key: "mode") { EPMode.allCases.map(\.rawValue) }
        session.registerValues(command: "moe", key: "expert-precision") { ExpertPrecision.allCases.map(\.rawValue) }
        session.registerValues(command: "moe", key: "gemm-rates") { GEMMRates.allCases.map(\.rawValue) }
        session.registerValues(command: "moe", key: "a2a") { EPTransport.allCases.map(\.rawValue) }
        registerMetrics()
    }

    private func queue(_ line: CommandLine) throws {
        try line.check(allowedKeys: Self.argumentKeys, maxPositionals: 2)
        let cluster = try clusterCommands.requireCluster(line)
        var backward = false
        var real = false
        for word in line.positionals {
            switch word.text {
            case "backward": backward = true
            case "real": real = true
            case "phantom": real = false
            default: throw line.error("expected 'backward', 'real' or 'phantom', not '\(word.text)'", at: word)
            }
        }
        let communicator = try clusterCommands.parseGroup(line, cluster: cluster)
        var request = try shape(line)
        if line.option("node-limit") != nil { request.nodeLimit = try line.integer("node-limit", in: 1...4096) }
        request.sharedExpertCount = try line.integer("shared", in: 0...16, default: 0)
        request.gate =
            GateKind(rawValue: try line.choice("gate", GateKind.allCases.map(\.rawValue), default: "sigmoid"))
            ?? .sigmoid
        request.options.skew = try line.quantity("skew", .number, default: 0)
        request.options.fp8Dispatch = try line.choice("dispatch", ["fp8", "bf16"], default: "fp8") == "fp8"
        request.options.synchronizePhases = true
        try Self.overlapOptions(line, into: &request.options)
        request.options.phantomSeed = session.seed
        try Self.checkTransport(line, options: request.options, real: real)
        request.backward = backward
        request.real = real
        request.seed = session.seed
        let name = line.option("name")
        if let name, runs.contains(where: { $0.name == name.text }) {
            throw line.error("a moe run named '\(name.text)' exists already", at: name)
        }
        let run: EPRun
        do {
            run = try EPRun(
                request, communicator: communicator,
                tagBase: (1 << 44) + runs.count * ExpertParallelLayer.tagsPerCall)
        } catch let error as ExpertParallelError {
            throw line.error(String(describing: error), at: errorToken(error, line: line))
        }
        try run.spawn()
        runs.append(Entry(name: name?.text, run: run))
        session.output(
            "queued moe layer on \(communicator.size) GPUs: \(request.tokensPerRank) tokens/rank, "
                + "\(request.expertCount) experts top-\(request.topK)"
                + (request.nodeLimit.map { " node-limit \($0)" } ?? "") + ", \(real ? "real" : "phantom")"
                + (backward ? " + backward" : "")
                + (request.options.transport == .flows ? ", all-to-alls as flows (a2a=flows, an approximation)" : ""))
        try describePlan(run, line: line)
    }

    /// The option an error names, for the caret.
    private func errorToken(_ error: ExpertParallelError, line: CommandLine) -> Token {
        guard case .invalid(let name, _, _) = error else { return line.command }
        let key = name == "group size" ? "group" : name
        return line.option(key) ?? line.command
    }

    /// The report of `entry` once the simulation finished it.
    func reportOf(_ entry: Entry?) -> EPRunReport? {
        guard let entry else { return nil }
        if let report = entry.report { return report }
        entry.report = try? entry.run.report()
        return entry.report
    }
}
