import Hardware
import MoEModel
import SimCore
import Tensors

/// What one rank measured in one layer call.
public struct EPRankStats: Sendable {
    /// When the rank's call started and its gate finished.
    public var start = SimInstant.start
    public var gateEnd = SimInstant.start
    /// The payload of the dispatch (after the counts exchange).
    public var dispatchStart = SimInstant.start
    public var dispatchEnd = SimInstant.start
    /// From the experts' end to the weighted sum.
    public var combineStart = SimInstant.start
    public var combineEnd = SimInstant.start
    /// When the call returned (after the shared experts, which overlap the combine).
    public var end = SimInstant.start
    /// Bytes this rank sent in dispatch (counts included) and in combine.
    public var dispatchTraffic = EPTraffic()
    public var combineTraffic = EPTraffic()
    /// Distinct tokens this rank received in dispatch (each once per source, however many of its experts).
    public var receivedTokens = 0
    /// Rows this rank's experts computed (a token sent to two of its experts counts twice).
    public var receivedRows = 0
    /// Distinct (token, node) pairs of this rank's tokens, its own node included (DeepEP's count).
    public var tokenNodePairs = 0
    /// Distinct (token, node) pairs of this rank's tokens on other nodes (what crosses IB).
    public var remoteTokenNodePairs = 0
}

extension ExpertParallelLayer {
    /// What backward needs from one rank's forward call.
    public struct Cache: Sendable {
        /// The rank's routing of its own tokens.
        public var routing: RoutingDecision
        /// Every rank's layout of the call (the expert side needs the sources', the relays theirs).
        public var layouts: [SourceLayout]
        /// Per wave of the call's plan, the layouts restricted to the wave's experts (backward reuses them).
        var waveLayouts: [[SourceLayout]]
        var routerCache: Router.Cache?
        var sharedCaches: [SwiGLUFFN.Cache]
        /// Per routed expert: this rank's slots' output rows (the combine's input); empty in phantom calls.
        var expertOutputs: [Tensor]
        /// Per local expert: its cache over the rows from every source.
        var expertCaches: [SwiGLUFFN.Cache?]
        var phantom: Bool
    }

    /// One rank's forward result.
    public struct ForwardResult: Sendable {
        /// The layer output for the rank's tokens.
        public var output: Tensor
        public var cache: Cache
        public var stats: EPRankStats
    }

    /// One rank's forward pass on its tokens `input` ([tokens, hidden], real or phantom); every rank calls it
    /// concurrently with the same `tagBase`. `routing` replaces the gate (phantom inputs route with the seeded
    /// random gate when it is nil). `parameters` must hold the rank's experts, the shared experts and the router.
    public func forward(
        rank: Int, input: Tensor, parameters: ParameterSet, tagBase: Int, routing given: RoutingDecision? = nil
    ) async throws -> ForwardResult {
        let simulation = communicator.cluster.simulation
        guard input.rank == 2, input.shape[1] == hiddenSize else {
            throw ExpertParallelError.invalid("input shape", "\(input.shape)", "must be [tokens, \(hiddenSize)]")
        }
        var stats = EPRankStats()
        stats.start = simulation.now
        let phantom = input.isPhantom
        let (routing, routerCache, layout) = try routeAndLayout(
            rank: rank, input: input, parameters: parameters, tagBase: tagBase, given)
        try await charge(gateKernel(tokens: input.rowCount), rank: rank)
        stats.gateEnd = simulation.now
        let layouts =
            usesFlows(phantom: phantom)
            ? try await exchangeCountsAsFlows(layout, tagBase: tagBase, traffic: &stats.dispatchTraffic)
            : try await exchangeCounts(layout, tagBase: tagBase, traffic: &stats.dispatchTraffic)
        stats.tokenNodePairs = layout.tokenNodePairs
        stats.remoteTokenNodePairs = layout.tokenNodePairs - layout.distinctTokensToNode[placement.nodeOfRank[rank]]

        await synchronize(tagBase, phase: 0)
        try await launchKernel(rank: rank)
        stats.dispatchStart = simulation.now
        stats.receivedTokens = layouts.reduce(0) { $0 + $1.distinctTokensToRank[rank] }
        stats.receivedRows = layouts.reduce(0) { $0 + $1.slotsToRank[rank].count }
        let waves = try waveLayouts(layouts)
        var caches = [SwiGLUFFN.Cache?](repeating: nil, count: placement.expertsPerRank)
        let outcome = try await runPipeline(
            .forward, rank: rank, waves: waves, tagBase: tagBase, syncKey: tagBase, phantom: phantom,
            shared: [sharedKernel(.forward, rows: input.rowCount * layer.sharedExperts.count)],
            outgoing: { try outgoingRows(input, layout: $0) },
            values: { try expertValues($0, rank: rank, parameters: parameters, phantom: phantom, caches: &caches) })
        stats.dispatchTraffic = stats.dispatchTraffic + outcome.dispatchTraffic
        stats.dispatchEnd = outcome.dispatchEnd
        stats.combineStart = outcome.combineStart
        stats.combineTraffic = outcome.combineTraffic
        let sharedEnd = outcome.sharedEnd
        let expertOutputs = outcome.expertOutputs
        var output: Tensor
        var sharedCaches: [SwiGLUFFN.Cache] = []
        if phantom {
            output = try Tensor(phantom: [input.rowCount, hiddenSize])
        } else {
            output = try MoELayer.combine(expertOutputs, routing: routing)
            for expert in layer.sharedExperts {
                let (sharedOutput, cache) = try expert.forward(input, parameters: parameters)
                output = try output.adding(sharedOutput)
                sharedCaches.append(cache)
            }
        }
        stats.combineEnd = simulation.now
        if sharedEnd > simulation.now { try await simulation.clock.sleep(until: sharedEnd) }
        stats.end = simulation.now
        try recordForward(rank: rank, stats)
        // Flow-level calls publish nothing there; only their phase barriers need dropping.
        if !usesFlows(phantom: phantom) || options.synchronizePhases { await exchange.finish(tagBase: tagBase) }
        let cache = Cache(
            routing: routing, layouts: layouts, waveLayouts: waves, routerCache: routerCache,
            sharedCaches: sharedCaches, expertOutputs: expertOutputs, expertCaches: caches, phantom: phantom)
        return ForwardResult(output: output, cache: cache, stats: stats)
    }

    /// The gate's routing and this rank's source layout: from the run's phantom cache for a phantom input
    /// routed by the seeded gate, else computed.
    private func routeAndLayout(
        rank: Int, input: Tensor, parameters: ParameterSet, tagBase: Int, _ given: RoutingDecision?
    ) throws -> (RoutingDecision, Router.Cache?, SourceLayout) {
        if input.isPhantom, given == nil, let phantomCache {
            let (routing, layout) = try phantomCache.entry(self, rank: rank, tokenCount: input.rowCount)
            return (routing, nil, layout)
        }
        let (routing, routerCache) = try gate(rank: rank, input: input, parameters: parameters, tagBase: tagBase, given)
        return (routing, routerCache, sourceLayout(rank: rank, routing: routing))
    }

    /// This rank's layout of `routing` with the layer's piece options.
    func sourceLayout(rank: Int, routing: RoutingDecision) -> SourceLayout {
        SourceLayout(
            rank: rank, routing: routing, placement: placement, maxPieces: options.maxPiecesPerNode,
            minPieceTokens: options.minPieceTokens)
    }

    private func gate(
        rank: Int, input: Tensor, parameters: ParameterSet, tagBase: Int, _ given: RoutingDecision?
    ) throws -> (RoutingDecision, Router.Cache?) {
        let router = layer.router
        if let given {
            guard given.tokenCount == input.rowCount, given.expertCount == router.expertCount,
                given.topK == router.topK
            else {
                throw ExpertParallelError.invalid(
                    "routing", "\(given.tokenCount) tokens × top-\(given.topK) of \(given.expertCount)",
                    "must route the \(input.rowCount) input tokens to top-\(router.topK) of \(router.expertCount)")
            }
            return (given, nil)
        }
        if input.isPhantom { return (try phantomRouting(rank: rank, tokenCount: input.rowCount), nil) }
        let (routing, cache) = try router.route(input, parameters: parameters)
        return (routing, cache)
    }

    /// The seeded random gate's routing of `tokenCount` phantom tokens on `rank`: what `forward` routes a
    /// phantom input with when no routing is given (the same for every call with these arguments, so callers
    /// may compute it once and pass it as `routing`).
    public func phantomRouting(rank: Int, tokenCount: Int) throws -> RoutingDecision {
        let router = layer.router
        let gate = try PhantomGate(
            expertCount: router.expertCount, groupCount: router.groupCount, groupLimit: router.groupLimit,
            topK: router.topK, skew: options.skew)
        return try gate.route(
            tokenCount: tokenCount, seed: SplitMix64.derivedSeed(options.phantomSeed, stream: UInt64(rank)))
    }

    /// Per routed expert, the rows of this rank's slots from the rows each expert rank returned.
    func localExpertRows(_ rows: [Tensor?], layout: SourceLayout, phantom: Bool) throws -> [Tensor] {
        try (0..<placement.rankCount).flatMap { target -> [Tensor] in
            var offset = 0
            return try placement.experts(ofRank: target).map { expert in
                let count = layout.expertCounts[expert]
                defer { offset += count }
                guard let block = rows[target], count > 0 else {
                    return phantom ? try Tensor(phantom: [0, hiddenSize]) : try Tensor(zeros: [0, hiddenSize])
                }
                if block.isPhantom { return try Self.phantomRows(count, like: block) }
                return try block.slicingRows(offset..<(offset + count))
            }
        }
    }
}
