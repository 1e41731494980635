import Collectives
import MoEModel

/// Building the expert-parallel state of a composed run's stage copies.
extension PipelineTrainer {
    /// The EP layers of every copy of a pipeline rank, one set per EP group, shared by the group's ranks.
    struct ExpertLayerSet: Sendable {
        /// Per copy held by the rank (schedule order, as `worker` builds them): per layer, its EP layer or nil.
        var copies: [[ExpertParallelLayer?]]
    }

    /// One set per EP group (index p · DP_replica + r).
    static func expertLayerSets(
        _ groups: PipelineExpertGroups, schedule: PipelineSchedule, config: MoEConfig, layers: [Range<Int>],
        replicasPerRank: Int
    ) throws -> [ExpertLayerSet] {
        guard groups.expertGroups.count == schedule.deviceCount * replicasPerRank else {
            throw PipelineError.invalidSetup(
                "\(groups.expertGroups.count) EP groups given for \(schedule.deviceCount) pipeline ranks × "
                    + "\(replicasPerRank) replicas")
        }
        let phantomCache = PhantomRoutingCache()
        return try groups.expertGroups.enumerated().map { index, communicator in
            let rank = index / replicasPerRank
            let copies = try heldStages(rank: rank, schedule: schedule).map { stage in
                try layers[stage].map { layer -> ExpertParallelLayer? in
                    guard case .moe(let moe) = TransformerBlock(index: layer, config: config).feedForward else {
                        return nil
                    }
                    return try ExpertParallelLayer(
                        layer: moe, hiddenSize: config.hiddenSize, expertWidth: config.expertWidth,
                        communicator: communicator, options: groups.options, phantomCache: phantomCache)
                }
            }
            return ExpertLayerSet(copies: copies)
        }
    }

    /// The stages rank `rank` holds, in the order its copies are built (direction by direction).
    static func heldStages(rank: Int, schedule: PipelineSchedule) -> [Int] {
        schedule.directions.flatMap { direction in
            (0..<schedule.stageCount).filter { schedule.stageDevices[direction.rawValue][$0] == rank }
        }
    }

    /// The EP state of one copy of pipeline group `dataIndex`: its layers, EP rank, expert entries and
    /// expert-DP group; `parameters` is the copy's full stage (nil in phantom runs), returned without the
    /// routed experts of other ranks.
    static func expertParallelCopy(
        layers: [ExpertParallelLayer?], stageLayers: Range<Int>, config: MoEConfig, dataIndex: Int, pipelineRank: Int,
        groups: PipelineExpertGroups, parameters: ParameterSet?
    ) throws -> (StageExpertParallel, ParameterSet?) {
        let expertParallel = groups.expertParallel
        let rank = dataIndex % expertParallel
        let replica = dataIndex / expertParallel
        var local: ParameterSet?
        var entries: [Int] = []
        if let parameters {
            // Phantom copies have no entries to filter: only real ones pay for the names.
            let owners = StageExpertParallel.expertOwnership(
                config: config, layers: stageLayers, rank: rank, expertParallel: expertParallel)
            let kept = try parameters.filtered { owners[$0] ?? true }
            entries = kept.entries.indices.filter { owners[kept.entries[$0].name] == true }
            local = kept
        }
        let moeLayers = stageLayers.count { config.isMoELayer($0) }
        let perExpert = 3 * config.hiddenSize * config.expertWidth
        let expertCount = moeLayers * (config.routedExpertCount / expertParallel) * perExpert
        var expertData: StageDataParallel?
        if !groups.expertDataGroups.isEmpty {
            let group = groups.expertDataGroups[pipelineRank * expertParallel + rank]
            expertData = StageDataParallel(group: group, dataIndex: replica)
        }
        let state = StageExpertParallel(
            layers: layers, rank: rank, modelLayers: config.layerCount, expertEntries: entries,
            expertParameterCount: expertCount,
            expertData: expertData)
        return (state, local)
    }
}
