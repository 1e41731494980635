import ArgumentParser
import Collectives
import Foundation
import Hardware
import Parallelism
import SimCore

/// `moesim-bench ep`: DeepEP's normal-kernel table on H800 (EP8 intranode, EP16/32/64 internode) beside the
/// published bandwidths, with the % difference, wall time and events per second.
struct EPBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ep",
        abstract: "DeepEP normal kernels (4096 tokens/rank, hidden 7168, 256 experts, top-8, node-limit 4, FP8 "
            + "dispatch, BF16 combine, 20 comm SMs) beside the published figures.")

    @Option(help: "Tokens per rank.") var tokens = 4096
    @Option(help: "EP sizes, comma-separated (multiples of 8 above 8).") var sizes = "8,16,32,64"
    @Option(help: "Seed of the random gate.") var seed: UInt64 = 0

    /// DeepEP's README (H800, CX7 400 Gb/s): bottleneck bandwidth in GB/s, dispatch and combine.
    static let published: [Int: (kind: String, dispatch: Double, combine: Double)] = [  // lookup only, never iterated
        8: ("NVL", 153, 158), 16: ("RDMA", 43, 43), 32: ("RDMA", 58, 57), 64: ("RDMA", 51, 50),
    ]

    func run() throws {
        let list = sizes.split(separator: ",").compactMap { Int($0) }
        print("# moesim ep: DeepEP normal kernels on H800, \(tokens) tokens/rank, hidden 7168, 256 experts, top-8,")
        print(
            "# node-limit min(nodes, 4), FP8 dispatch / BF16 combine, 20 comm SMs; bandwidth as DeepEP's tests count it"
        )
        print(
            pad("EP", 4) + pad("kind", 6) + pad("disp(us)", 10) + pad("disp GB/s", 11) + pad("paper", 7)
                + pad("diff", 8)
                + pad("comb(us)", 10) + pad("comb GB/s", 11) + pad("paper", 7) + pad("diff", 8) + pad("nvl d/c", 13)
                + pad("wall(s)", 9) + pad("Mev/s", 7))
        for size in list { try row(size) }
    }

    private func row(_ size: Int) throws {
        let wallClock = ContinuousClock()
        let start = wallClock.now
        let simulation = Simulation(seed: seed, storesTraceEvents: false)
        let nodes = max(1, size / 8)
        let cluster = try Cluster.railOptimized(nodeCount: nodes, in: simulation)
        let group = try Communicator(cluster: cluster, ranks: (0..<size).map(GPUID.init))
        var request = EPRunRequest(
            tokensPerRank: tokens, hiddenSize: 7168, expertWidth: 2048, expertCount: 256, topK: 8)
        request.nodeLimit = nodes > 1 ? min(nodes, 4) : nil
        request.options.synchronizePhases = true
        request.options.phantomSeed = seed
        let run = try EPRun(request, communicator: group)
        try run.spawn()
        let reason = simulation.run()
        guard reason == .finished else { throw ValidationError("EP\(size) stopped: \(reason)") }
        let report = try run.report()
        let seconds = (wallClock.now - start).secondsValue
        let internode = nodes > 1
        let dispatch = (internode ? report.dispatchRDMABytesPerSecond ?? 0 : report.dispatchNVLBytesPerSecond) / 1e9
        let combine = (internode ? report.combineRDMABytesPerSecond ?? 0 : report.combineNVLBytesPerSecond) / 1e9
        let paper = Self.published[size]
        func diff(_ value: Double, _ reference: Double?) -> String {
            guard let reference else { return "-" }
            return String(format: "%+.1f%%", (value / reference - 1) * 100)
        }
        let nvl = String(
            format: "%.0f/%.0f", report.dispatchNVLBytesPerSecond / 1e9, report.combineNVLBytesPerSecond / 1e9)
        print(
            pad("\(size)", 4) + pad(internode ? "RDMA" : "NVL", 6)
                + pad(String(format: "%.1f", report.dispatchTime.microseconds), 10)
                + pad(String(format: "%.1f", dispatch), 11) + pad(paper.map { "\(Int($0.dispatch))" } ?? "-", 7)
                + pad(diff(dispatch, paper?.dispatch), 8)
                + pad(String(format: "%.1f", report.combineTime.microseconds), 10)
                + pad(String(format: "%.1f", combine), 11) + pad(paper.map { "\(Int($0.combine))" } ?? "-", 7)
                + pad(diff(combine, paper?.combine), 8) + pad(nvl, 13) + pad(String(format: "%.2f", seconds), 9)
                + pad(String(format: "%.2f", Double(simulation.eventCount) / seconds / 1e6), 7))
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }
}
