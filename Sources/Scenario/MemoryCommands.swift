import Foundation
import MoEModel
import Parallelism

/// The `memory` planner: model-state bytes per GPU for Ψ parameters over N_d data-parallel GPUs under every
/// ZeRO stage (the question DeepSpeed's `estimate_zero*_model_states_mem_needs` helpers answer), and the
/// `memory.model_states[S]` metrics.
final class MemoryCommands {
    unowned let session: ScenarioSession
    /// The last plan, by stage.
    private(set) var plan: [ModelStateMemory] = []
    /// The last layout plan (`memory model=`), by pipeline rank.
    var rankPlan: [ModelStateMemory] = []
    static let maxParameters = 1e16
    static let argumentNames = ["params", "dp", "moments"]

    init(session: ScenarioSession) {
        self.session = session
        session.register(
            Command(
                "memory",
                synopsis:
                    "memory params=N dp=N [moments=fp32|bf16] | memory model=NAME [pp= ep= dp-replica=] [dualpipe=on|off]",
                summary: "model-state bytes per GPU for N parameters over dp GPUs under ZeRO stages 0-3",
                details: [
                    "params: a parameter count (7500000000 or 7.5e9), never bytes; moments=bf16: K = 8, else 12",
                    "formulas (Rajbhandari et al.): DP (4 + K)Ψ, ZeRO-1 4Ψ + KΨ/N_d, ZeRO-2 2Ψ + (2 + K)Ψ/N_d,",
                    "ZeRO-3 (4 + K)Ψ/N_d (Ψ/N_d rounded up); activations and buffers are not included",
                    "model=NAME: ZeRO-1 per pipeline rank of PP × EP × DP_replica (non-expert parameters over DP_total,",
                    "the GPU's experts over DP_replica; defaults from the preset's step: dsv3 PP16 EP64 DP_replica 2,",
                    "DualPipe, BF16 moments); metric memory.rank_states[R]",
                ],
                argumentKeys: Self.argumentNames + Self.layoutArgumentNames.filter { $0 != "moments" }
            ) { [unowned self] line in try perform(line) })
        session.registerValues(command: "memory", key: "moments") { ["fp32", "bf16"] }
        session.registerValues(command: "memory", key: "model") { ModelPreset.allCases.map(\.rawValue) }
        session.registerValues(command: "memory", key: "dualpipe") { ["on", "off"] }
        session.register(
            Metric(
                "memory.rank_states[R]", .bytes, "model-state bytes per GPU of pipeline rank R of the last layout plan",
                instances: { [unowned self] in rankPlan.indices.map { [String($0)] } }
            ) { [unowned self] selectors in
                guard let rank = selectors.first.flatMap({ Int($0) }), rankPlan.indices.contains(rank) else {
                    return nil
                }
                return Double(rankPlan[rank].totalBytes)
            })
        session.register(
            Metric(
                "memory.model_states[S]", .bytes, "model-state bytes per GPU under ZeRO stage S of the last plan",
                instances: { [unowned self] in plan.indices.map { [String($0)] } }
            ) { [unowned self] selectors in
                guard let stage = selectors.first.flatMap({ Int($0) }), plan.indices.contains(stage) else {
                    return nil
                }
                return Double(plan[stage].totalBytes)
            })
    }

    private func perform(_ line: CommandLine) throws {
        if line.option("model") != nil { return try performLayout(line) }
        try line.check(allowedKeys: Self.argumentNames, maxPositionals: 0)
        let parameters = try parameterCount(line)
        let ranks = try line.integer("dp", in: 1...1_000_000)
        let bf16 = try line.choice("moments", ["fp32", "bf16"], default: "fp32") == "bf16"
        let k = ModelStateMemory.optimizerBytesPerParameter(bf16Moments: bf16)
        plan = ZeROStage.allCases.map {
            ModelStateMemory(parameterCount: parameters, ranks: ranks, stage: $0, optimizerBytesPerParameter: k)
        }
        session.output(
            "model states per GPU (GB = 1e9 bytes): Ψ = \(parameters) parameters over N_d = \(ranks) GPUs, K = \(k)")
        let header = ["stage", "parameters", "gradients", "optimizer", "total"]
        session.output(
            header[0].padding(toLength: 8, withPad: " ", startingAt: 0) + header.dropFirst().map { pad($0) }.joined())
        for (stage, states) in plan.enumerated() {
            let cells = [states.parameterBytes, states.gradientBytes, states.optimizerBytes, states.totalBytes]
            session.output(
                "zero=\(stage)".padding(toLength: 8, withPad: " ", startingAt: 0)
                    + cells.map { pad(Self.gigabytes($0)) }.joined())
        }
    }

    /// `params=`: a plain count, in digits or scientific notation; a unit (7.5GB, 7.5B) is refused.
    private func parameterCount(_ line: CommandLine) throws(ScenarioError) -> Int {
        guard let token = line.option("params") else {
            throw line.error("missing argument params=N (a parameter count, e.g. params=7.5e9)", at: line.command)
        }
        // Digits, a point and an exponent only: Double would also read hex (0x10), "inf" and "nan".
        let isDecimal = token.text.allSatisfy { "0123456789.eE+-".contains($0) }
        guard isDecimal, let value = Double(token.text), value.isFinite, value >= 1, value <= Self.maxParameters,
            value == value.rounded()
        else {
            throw line.error(
                "params must be a whole parameter count between 1 and 1e16 (7500000000 or 7.5e9), not '\(token.text)'",
                at: token)
        }
        return Int(value)
    }

    /// Decimal gigabytes as the ZeRO paper prints them: 120 GB, 31.41 GB, 1.875 GB.
    static func gigabytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1e9
        let digits = value >= 100 ? 1 : value >= 10 ? 2 : 3
        var text = String(format: "%.\(digits)f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + " GB"
    }

    func pad(_ text: String) -> String { String(repeating: " ", count: max(0, 14 - text.count)) + text }
}
