import Hardware
import Parallelism

extension MoECommands {
    /// The layer shape: `preset=` gives defaults, `hidden=` … `topk=` override them (required without one).
    func shape(_ line: CommandLine) throws -> EPRunRequest {
        var preset: EPShapePreset?
        if line.option("preset") != nil {
            preset = EPShapePreset.named(try line.choice("preset", EPShapePreset.all.map(\.name)))
        }
        return EPRunRequest(
            tokensPerRank: try line.integer("tokens", in: 1...EPRunRequest.maxTokensPerRank),
            hiddenSize: try line.integer("hidden", in: 1...EPWireFormat.maxHiddenSize, default: preset?.hiddenSize),
            expertWidth: try line.integer("expert-hidden", in: 1...65_536, default: preset?.expertWidth),
            expertCount: try line.integer("experts", in: 1...EPRunRequest.maxExperts, default: preset?.expertCount),
            topK: try line.integer("topk", in: 1...EPRunRequest.maxExperts, default: preset?.topK))
    }

    /// `mode=`, `waves=`, `experts-per-wave=`, `comet-blocks=`, `expert-precision=`, `gemm-rates=` and `a2a=`.
    static func overlapOptions(
        _ line: CommandLine, into options: inout ExpertParallelLayer.Options
    ) throws(ScenarioError) {
        let mode = try line.choice("mode", EPMode.allCases.map(\.rawValue), default: "serial")
        options.mode = EPMode(rawValue: mode) ?? .serial
        if line.option("waves") != nil { options.waves = try line.integer("waves", in: 1...4096) }
        if line.option("experts-per-wave") != nil {
            options.expertsPerWave = try line.integer("experts-per-wave", in: 1...4096)
        }
        if options.mode != .waved, let token = line.option("waves") ?? line.option("experts-per-wave") {
            throw line.error("waves and experts-per-wave need mode=waved", at: token)
        }
        options.cometColumnBlocks = try line.integer("comet-blocks", in: 1...WavePlan.maxWaves, default: 4)
        let precision = try line.choice(
            "expert-precision", ExpertPrecision.allCases.map(\.rawValue), default: "bf16")
        options.expertPrecision = ExpertPrecision(rawValue: precision) ?? .bf16
        options.gemmRates = try gemmRates(line)
        options.transport =
            EPTransport(rawValue: try line.choice("a2a", EPTransport.allCases.map(\.rawValue), default: "messages"))
            ?? .messages
    }

    /// Refuses `a2a=flows` on a run with real rows (flows carry no values).
    static func checkTransport(_ line: CommandLine, options: ExpertParallelLayer.Options, real: Bool)
        throws(ScenarioError)
    {
        guard real, options.transport == .flows, let token = line.option("a2a") else { return }
        throw line.error(
            "a2a=flows models phantom rows only (flows carry no values); use phantom or a2a=messages", at: token)
    }

    /// `gemm-rates=published` (default: DeepGEMM's published H800 FP8 figures where they exist) or `peak`.
    static func gemmRates(_ line: CommandLine) throws(ScenarioError) -> GEMMRates {
        GEMMRates(rawValue: try line.choice("gemm-rates", GEMMRates.allCases.map(\.rawValue), default: "published"))
            ?? .published
    }

    /// Prints the wave plan and the balance rule of a queued run.
    func describePlan(_ run: EPRun, line: CommandLine) throws {
        let layer = run.layer
        let plan = try layer.wavePlan(tokensPerRank: Double(run.request.tokensPerRank))
        session.output("  mode \(layer.options.mode.rawValue): \(plan)")
        session.output("  balance rule: \(run.balanceRule)")
    }
}
