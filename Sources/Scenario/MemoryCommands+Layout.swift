import MoEModel
import Parallelism

/// `memory model=NAME [pp= ep= dp-replica=] [dualpipe=on|off] [moments=fp32|bf16]`: ZeRO-1 model states per GPU
/// of each pipeline rank of a composed layout (non-expert parameters over DP_total, the GPU's experts over
/// DP_replica), defaults from the preset's step (DeepSeek-V3: PP16 × EP64 × DP_replica 2, DualPipe, BF16 moments).
extension MemoryCommands {
    static let layoutArgumentNames = ["model", "pp", "ep", "dp-replica", "dualpipe", "moments"]

    func performLayout(_ line: CommandLine) throws {
        try line.check(allowedKeys: Self.layoutArgumentNames, maxPositionals: 0)
        let name = try line.choice("model", ModelPreset.allCases.map(\.rawValue))
        let preset = ModelPreset(rawValue: name) ?? .dsv3
        let defaults = preset.stepDefaults
        func factor(_ key: String, _ value: Int?) throws(ScenarioError) -> Int {
            guard value != nil || line.option(key) != nil else {
                throw line.error(
                    "model=\(name) has no step defaults: give pp=, ep= and dp-replica=",
                    at: line.option("model") ?? line.command)
            }
            return try line.integer(key, in: 1...65_536, default: value)
        }
        let pp = try factor("pp", defaults?.pipelineStages)
        let ep = try factor("ep", defaults?.expertParallel)
        let replicas = try factor("dp-replica", defaults?.dataParallelReplicas)
        let dualPipe = try line.choice("dualpipe", ["on", "off"], default: "on") == "on"
        let defaultMoments = defaults?.bf16Moments == false ? "fp32" : "bf16"
        let bf16 = try line.choice("moments", ["fp32", "bf16"], default: defaultMoments) == "bf16"
        let config = preset.config
        let layout: ParallelLayout
        do {
            layout = try ParallelLayout(
                pipelineStages: pp, expertParallel: ep, dataParallelReplicas: replicas, gpuCount: pp * ep * replicas,
                gpusPerNode: defaults?.gpusPerNode ?? 8, expertCount: config.routedExpertCount)
            rankPlan = try (0..<pp).map {
                try layout.modelStates(config: config, pipelineRank: $0, dualPipe: dualPipe, bf16Moments: bf16)
            }
        } catch let error as LayoutError {
            let key: String
            switch error {
            case .invalid(let name, _, _): key = name
            }
            throw line.error("\(error)", at: line.option(key) ?? line.option("model") ?? line.command)
        } catch {
            throw line.error("\(error)", at: line.option("pp") ?? line.option("model") ?? line.command)
        }
        describe(layout, name: name, dualPipe: dualPipe, bf16: bf16)
    }

    private func describe(_ layout: ParallelLayout, name: String, dualPipe: Bool, bf16: Bool) {
        let pp = layout.pipelineStages
        session.output(
            "model states per GPU (GB = 1e9 bytes) of \(name) on PP\(pp) × EP\(layout.expertParallel) × DP_replica "
                + "\(layout.dataParallelReplicas) (\(layout.gpuCount) GPUs): ZeRO-1, non-expert parameters over "
                + "DP_total \(layout.dataParallel), experts over DP_replica \(layout.dataParallelReplicas), K = "
                + "\(ModelStateMemory.optimizerBytesPerParameter(bf16Moments: bf16))"
                + (dualPipe ? ", DualPipe (rank r holds stages r and PP−1−r)" : ""))
        let header = ["rank", "stages", "parameters", "gradients", "optimizer", "total"]
        session.output(header.map { pad($0) }.joined())
        for (rank, states) in rankPlan.enumerated() {
            let mirrored = pp - 1 - rank
            let stages = dualPipe && mirrored != rank ? "\(rank),\(mirrored)" : "\(rank)"
            let cells = [states.parameterBytes, states.gradientBytes, states.optimizerBytes, states.totalBytes]
            session.output(([String(rank), stages] + cells.map(Self.gigabytes)).map { pad($0) }.joined())
        }
    }
}
