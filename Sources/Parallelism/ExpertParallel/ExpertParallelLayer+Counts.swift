import Hardware
import Tensors

extension ExpertParallelLayer {
    /// The counts exchange (DeepEP's notify step), hierarchical like the payload: each rank sends its per-expert
    /// token counts for a node's experts (E / nodes × 4 bytes) to every rank of its own node over NVLink and once
    /// per other node over IB to the same-index GPU, which relays them to its neighbours. Once every count has
    /// arrived, every source's layout is known.
    func exchangeCounts(_ layout: SourceLayout, tagBase: Int, traffic: inout EPTraffic) async throws
        -> [SourceLayout]
    {
        let rank = layout.rank
        let gpu = try communicator.gpu(rank: rank)
        let ids = communicator.ranks
        let home = placement.nodeOfRank[rank]
        let members = placement.ranksOfNode
        await exchange.publish(layout, tagBase: tagBase)
        let perNode = placement.expertCount / placement.nodeCount
        func counts(_ layout: SourceLayout, node: Int) throws -> Tensor {
            try Tensor(
                shape: [perNode], values: layout.expertCounts[(node * perNode)..<((node + 1) * perNode)].map(Float.init)
            )
        }
        var handles: [SendHandle] = []
        for node in members.indices {
            let message = try counts(layout, node: node)
            let targets = node == home ? members[node].filter { $0 != rank } : [placement.proxy(of: rank, onNode: node)]
            for target in targets {
                handles.append(
                    try await gpu.startSend(message, to: ids[target], tag: tag(tagBase, EPLegs.counts, rank)))
                if node == home {
                    traffic.nvlinkBytes += message.byteCount
                } else {
                    traffic.ibBytes += message.byteCount
                }
            }
        }
        // As the same-index GPU of each remote source: relay its counts to this node's other ranks.
        let remoteSources = (0..<placement.rankCount).filter {
            placement.nodeOfRank[$0] != home && placement.localIndexOfRank[$0] == placement.localIndexOfRank[rank]
        }
        for source in remoteSources {
            let message = try await gpu.receive(from: ids[source], tag: tag(tagBase, EPLegs.counts, source))
            for target in members[home] where target != rank {
                handles.append(
                    try await gpu.startSend(message, to: ids[target], tag: tag(tagBase, EPLegs.countsRelay, source)))
                traffic.nvlinkBytes += message.byteCount
            }
        }
        for source in 0..<placement.rankCount where source != rank && !remoteSources.contains(source) {
            if placement.nodeOfRank[source] == home {
                _ = try await gpu.receive(from: ids[source], tag: tag(tagBase, EPLegs.counts, source))
            } else {
                let proxy = placement.proxy(of: source, onNode: home)
                _ = try await gpu.receive(from: ids[proxy], tag: tag(tagBase, EPLegs.countsRelay, source))
            }
        }
        for handle in handles { try await handle.wait() }
        return try await exchange.layouts(tagBase: tagBase)
    }
}
