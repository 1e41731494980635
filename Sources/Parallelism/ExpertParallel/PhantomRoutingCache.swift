import MoEModel

/// The seeded gate's routings and source layouts of phantom tokens, drawn once per EP rank and reused by every
/// layer, micro-batch and EP group of a run that shares the cache (the gate draws the same routing for them all:
/// its seed is the EP rank's).
///
/// A run builds one cache for all its EP layers, which must share the gate options and the placement's shape.
/// Confined to the simulation's executor like every simulated actor, so the table needs no locking.
public final class PhantomRoutingCache: @unchecked Sendable {
    struct Key: Hashable {
        let rank: Int
        let tokenCount: Int
        let expertCount: Int
        let topK: Int
        let rankCount: Int
        let nodeCount: Int
    }

    private var entries: [Key: (RoutingDecision, SourceLayout)] = [:]  // lookup only, never iterated
    /// The phantom row sets built from these layouts.
    let rowSets = PhantomRowSets()
    /// The flow-level all-to-alls' plans over these layouts.
    let flowPlans = EPFlowPlans()

    /// An empty cache.
    public init() {}

    /// The routing and layout of `tokenCount` phantom tokens on `rank` of `layer`'s group.
    func entry(_ layer: ExpertParallelLayer, rank: Int, tokenCount: Int) throws -> (RoutingDecision, SourceLayout) {
        let router = layer.layer.router
        let key = Key(
            rank: rank, tokenCount: tokenCount, expertCount: router.expertCount, topK: router.topK,
            rankCount: layer.placement.rankCount, nodeCount: layer.placement.nodeCount)
        if let known = entries[key] { return known }
        let routing = try layer.phantomRouting(rank: rank, tokenCount: tokenCount)
        let entry = (routing, layer.sourceLayout(rank: rank, routing: routing))
        entries[key] = entry
        return entry
    }
}
