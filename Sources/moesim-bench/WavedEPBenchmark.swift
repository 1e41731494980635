import ArgumentParser
import Collectives
import Foundation
import Hardware
import Parallelism
import SimCore

/// `moesim-bench waved-ep`: DeepGEMM PR #316's Mega MoE table (V4-Flash and V4-Pro, EP8 on B200) — serial,
/// comet and waved times, their speedups over serial, and the published speedups beside them — plus a sweep of
/// the wave count.
struct WavedEPBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waved-ep",
        abstract: "DeepGEMM PR #316 table: V4-Flash / V4-Pro MoE layer, EP8 on one B200 node, serial vs comet vs "
            + "waved, beside the published Mega MoE speedups; then a wave-count sweep.")

    @Option(help: "Tokens per rank, comma-separated.") var tokens = "1,512,8192,32768"
    @Option(help: "Expert format: bf16, fp8, fp4 (V4: FP4 weights, FP8 activations) or fp4x4 (FP4 both).")
    var precision = "fp4"
    @Option(help: "Tokens per rank of the wave-count sweep (0: no sweep).") var sweepTokens = 8192
    @Option(help: "Seed of the random gate.") var seed: UInt64 = 0
    @Flag(help: "Also run B (output gradients dispatched, experts' B, input gradients combined) in each mode.")
    var backward = false

    /// PR #316 (SM100, EP8): tokens per rank → fused time (µs) and speedup over the non-fused legacy path.
    static let published: [String: [Int: (microseconds: Double, speedup: Double)]] = [  // lookup only, never iterated
        "v4-flash": [1: (56.5, 1.96), 512: (146.5, 1.73), 8192: (1283.1, 1.56), 32768: (4855.5, 1.62)],
        "v4-pro": [1: (108.1, 1.61), 512: (369.6, 1.54), 8192: (2818.5, 1.50), 32768: (10655.2, 1.54)],
    ]

    func run() throws {
        guard let format = ExpertPrecision(rawValue: precision) else {
            throw ValidationError("precision '\(precision)': expected bf16, fp8, fp4 or fp4x4")
        }
        let list = tokens.split(separator: ",").compactMap { Int($0) }
        let gpu = GPUSpec.b200
        print(
            "# moesim waved-ep: EP8 on one \(gpu.name) node (\(gpu.smCount) SMs, \(GPUSpec.defaultCommSMCount) for "
                + "communication), phantom tokens, \(format.rawValue) experts,")
        print(
            "# FP8 dispatch / BF16 combine, no shared expert; time = first gate end to last combine end (the counts "
                + "exchange in, the gate out, as PR #316 times the layer given the top-k);")
        print("# times in µs, x = serial time ÷ mode time, diff = x waved ÷ published x − 1")
        print(
            pad("model", 9) + pad("T", 6) + pad("waves", 6) + pad("serial µs", 10) + pad("comet µs", 10)
                + pad("waved µs", 10) + pad("paper µs", 10) + pad("x comet", 8) + pad("x waved", 8) + pad("paper x", 8)
                + pad("diff", 8) + (backward ? pad("B ser µs", 10) + pad("B wav µs", 10) + pad("x B", 6) : "")
                + pad("wall s", 7))
        for preset in EPShapePreset.all {
            for count in list { try row(preset, tokens: count, format: format) }
        }
        guard sweepTokens > 0 else { return }
        print("# wave-count sweep at \(sweepTokens) tokens/rank: waved time (µs) per wave count; * = heuristic")
        for preset in EPShapePreset.all { try sweep(preset, format: format) }
    }

    private func row(_ preset: EPShapePreset, tokens count: Int, format: ExpertPrecision) throws {
        let wallClock = ContinuousClock()
        let start = wallClock.now
        let serial = try measure(preset, tokens: count, mode: .serial, format: format, backward: backward)
        let comet = try measure(preset, tokens: count, mode: .comet, format: format)
        let waved = try measure(preset, tokens: count, mode: .waved, format: format, backward: backward)
        let seconds = (wallClock.now - start).secondsValue
        let paper = Self.published[preset.name]?[count]
        let speedup = serial.microseconds / waved.microseconds
        let diff = paper.map { String(format: "%+.1f%%", (speedup / $0.speedup - 1) * 100) } ?? "-"
        var line =
            pad(preset.name, 9) + pad("\(count)", 6) + pad("\(waved.waves)", 6) + pad(fmt(serial.microseconds), 10)
            + pad(fmt(comet.microseconds), 10) + pad(fmt(waved.microseconds), 10)
            + pad(paper.map { fmt($0.microseconds) } ?? "-", 10)
            + pad(String(format: "%.2f", serial.microseconds / comet.microseconds), 8)
            + pad(String(format: "%.2f", speedup), 8)
            + pad(paper.map { String(format: "%.2f", $0.speedup) } ?? "-", 8) + pad(diff, 8)
        if backward, let serialB = serial.backwardMicroseconds, let wavedB = waved.backwardMicroseconds {
            line += pad(fmt(serialB), 10) + pad(fmt(wavedB), 10) + pad(String(format: "%.2f", serialB / wavedB), 6)
        }
        print(line + pad(String(format: "%.1f", seconds), 7))
    }

    private func sweep(_ preset: EPShapePreset, format: ExpertPrecision) throws {
        let local = preset.expertCount / 8
        let heuristic = try measure(preset, tokens: sweepTokens, mode: .waved, format: format).waves
        let serial = try measure(preset, tokens: sweepTokens, mode: .serial, format: format).microseconds
        var line = pad(preset.name, 9) + " serial " + fmt(serial) + " |"
        for waves in (1...local).filter({ local % $0 == 0 }) {
            let time = try measure(preset, tokens: sweepTokens, mode: .waved, format: format, waves: waves)
            line += " \(waves)\(waves == heuristic ? "*" : ""):" + fmt(time.microseconds)
        }
        print(line)
    }

    private func measure(
        _ preset: EPShapePreset, tokens count: Int, mode: EPMode, format: ExpertPrecision, waves: Int? = nil,
        backward: Bool = false
    ) throws -> (microseconds: Double, waves: Int, backwardMicroseconds: Double?) {
        let simulation = Simulation(seed: seed, storesTraceEvents: false)
        let cluster = try Cluster.singleNode(gpu: .b200, in: simulation)
        let group = try Communicator(cluster: cluster, ranks: (0..<8).map(GPUID.init))
        var request = EPRunRequest(
            tokensPerRank: count, hiddenSize: preset.hiddenSize, expertWidth: preset.expertWidth,
            expertCount: preset.expertCount, topK: preset.topK)
        request.options.synchronizePhases = true
        request.options.phantomSeed = seed
        request.options.mode = mode
        request.options.waves = waves
        request.options.expertPrecision = format
        request.backward = backward
        let run = try EPRun(request, communicator: group)
        try run.spawn()
        let reason = simulation.run()
        guard reason == .finished else { throw ValidationError("\(preset.name) T=\(count) \(mode): \(reason)") }
        let plan = try run.layer.wavePlan(tokensPerRank: Double(count))
        let report = try run.report()
        return (report.timeAfterGate.microseconds, plan.waveCount, report.backwardInputTime?.microseconds)
    }

    private func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }
}
