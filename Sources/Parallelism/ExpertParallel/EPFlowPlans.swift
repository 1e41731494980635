import Hardware

/// The flow-level all-to-alls' plans of a run's EP layers: the layers of one EP group (the same GPUs) share the
/// plan of each kind while their calls repeat its layouts, so a run keeps one per group and kind, not one per
/// layer.
///
/// Confined to the simulation's executor like every simulated actor, so the table needs no locking.
final class EPFlowPlans: @unchecked Sendable {
    private struct Key: Hashable {
        let kind: EPFlowKind
        /// The plan's cluster (its plan holds it, so the identifier stays its own) and GPUs.
        let cluster: ObjectIdentifier
        let ranks: [GPUID]
    }

    private var plans: [Key: EPFlowPlan] = [:]  // lookup only, never iterated

    /// No plans yet.
    init() {}

    /// The plan of `kind` over `layouts` on `placement`'s ranks: the kept one when it matches, else a new one,
    /// which replaces it.
    func plan(_ kind: EPFlowKind, layouts: [SourceLayout], placement: ExpertPlacement) -> EPFlowPlan {
        let communicator = placement.communicator
        let key = Key(kind: kind, cluster: ObjectIdentifier(communicator.cluster), ranks: communicator.ranks)
        if let kept = plans[key], kept.matches(kind: kind, layouts: layouts) { return kept }
        let plan = EPFlowPlan(kind: kind, layouts: layouts, placement: placement)
        plans[key] = plan
        return plan
    }
}
