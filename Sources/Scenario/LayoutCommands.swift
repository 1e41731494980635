import Hardware
import Parallelism

/// `show layout pp=N ep=N [dp-replica=N]`: DeepSeek-V3's PP × EP × DP placement on the current cluster.
extension TrainCommands {
    /// Registers `show layout`.
    func registerLayout() {
        session.registerShow(
            Command(
                "layout", synopsis: "show layout pp=N ep=N [dp-replica=N]",
                summary: "the PP × EP × DP rank map and process groups on the cluster",
                argumentKeys: ["pp", "ep", "dp-replica"]
            ) { [unowned self] line in try showLayout(line) })
    }

    /// The layout `pp=`, `ep=`, `dp-replica=` name on `gpuCount` GPUs; errors put the caret on the value.
    func parallelLayout(_ line: CommandLine, gpuCount: Int, gpusPerNode: Int, expertCount: Int?) throws(ScenarioError)
        -> ParallelLayout
    {
        let pp = try line.integer("pp", in: 1...TrainRequest.maxRanks, default: 1)
        let ep = try line.integer("ep", in: 1...TrainRequest.maxRanks, default: 1)
        let replicas = try line.integer("dp-replica", in: 1...TrainRequest.maxRanks, default: 1)
        do {
            return try ParallelLayout(
                pipelineStages: pp, expertParallel: ep, dataParallelReplicas: replicas, gpuCount: gpuCount,
                gpusPerNode: gpusPerNode, expertCount: expertCount)
        } catch {
            let key: String
            switch error {
            case .invalid(let name, _, _): key = name.hasPrefix("pp ×") ? "pp" : name
            }
            throw line.error(String(describing: error), at: line.option(key) ?? line.command)
        }
    }

    private func showLayout(_ line: CommandLine) throws {
        try line.check(allowedKeys: ["pp", "ep", "dp-replica"], maxPositionals: 1)
        let cluster = try clusterCommands.requireCluster(line)
        let perNode = cluster.spec.gpusPerNode
        let layout = try parallelLayout(
            line, gpuCount: cluster.gpus.count, gpusPerNode: perNode, expertCount: nil)
        for text in Self.layoutLines(layout) { session.output(text) }
    }

    /// The group table and (up to 64 GPUs) the rank map of `layout`.
    static func layoutLines(_ layout: ParallelLayout) -> [String] {
        let perNode = layout.gpusPerNode
        var lines = [
            "layout pp=\(layout.pipelineStages) ep=\(layout.expertParallel) dp-replica=\(layout.dataParallelReplicas) "
                + "on \(layout.gpuCount) GPUs (\(max(1, layout.gpuCount / perNode)) nodes × \(perNode)): "
                + "DP_total \(layout.dataParallel)"
        ]
        var table = TextTable([.init("group", .left), .init("groups"), .init("size"), .init("first", .left)])
        let kinds: [(String, [[Int]])] = [
            ("pipeline", layout.pipelineGroups), ("expert (EP)", layout.expertGroups),
            ("data (DP, non-expert)", layout.dataGroups), ("expert data (expert DP)", layout.expertDataGroups),
        ]
        for (name, groups) in kinds {
            table.add([name, "\(groups.count)", "\(groups.first?.count ?? 0)", gpuList(groups.first ?? [])])
        }
        lines += table.lines()
        lines.append(
            "pipeline neighbours on different nodes: \(layout.pipelineNeighboursOnDifferentNodes ? "yes" : "no"); "
                + "an EP group spans \(layout.nodesPerExpertGroup) node(s)")
        guard layout.gpuCount <= 64 else { return lines }
        lines.append("rank map (gpu: stage s, data index d = replica r · EP + expert rank e):")
        for node in 0..<max(1, layout.gpuCount / perNode) {
            let cells = (node * perNode..<min(layout.gpuCount, (node + 1) * perNode)).map { gpu in
                let c = layout.coordinates(of: gpu)
                return "gpu\(gpu) s\(c.stage) d\(c.dataIndex) e\(c.expertRank) r\(c.replica)"
            }
            lines.append("  node\(node): " + cells.joined(separator: " | "))
        }
        return lines
    }

    private static func gpuList(_ gpus: [Int]) -> String {
        guard let first = gpus.first, let last = gpus.last else { return "" }
        if gpus.count > 2, gpus == Array(first...last) { return "gpu\(first)-gpu\(last)" }
        return gpus.map { "gpu\($0)" }.joined(separator: ", ")
    }
}
