import SimCore

/// What one rank's part of a flow-level all-to-all came to.
struct EPFlowResult: Sendable {
    /// When the rank's part is over: its flows sent, relayed and received have all arrived (ns).
    var completionNs: Int64
    /// The bytes the rank sent.
    var traffic: EPTraffic
    /// Per source rank, when its rows for this rank arrived (ns; dispatch with arrivals tracked, else empty).
    var arrivalNs: [Int64]
    /// Counts exchange: every rank's layout (else empty).
    var layouts: [SourceLayout] = []
}

/// The flow-level all-to-alls of one expert-parallel layer (`a2a=flows`): the ranks of each call join here
/// instead of sending messages; each gets its completion instant once every flow it takes part in is booked.
actor EPFlowExchange: SimulatedActor {
    nonisolated let simulation: Simulation
    private let placement: ExpertPlacement
    private var calls: [Int: EPFlowCall] = [:]  // lookup only, never iterated
    private let plans: EPFlowPlans

    /// The exchange of a layer on `placement`, its calls' plans kept in `plans`.
    init(placement: ExpertPlacement, plans: EPFlowPlans) {
        self.placement = placement
        self.plans = plans
        simulation = placement.communicator.cluster.simulation
    }

    /// Rank `rank` joins the call `key` (one per all-to-all of a layer call; every rank passes the same kind
    /// and layouts, and in a counts exchange its own `layout`) now; returns its part once every flow it takes
    /// part in is booked. The caller then waits until `completionNs`.
    func join(
        key: Int, rank: Int, kind: EPFlowKind, layouts: [SourceLayout], tracksArrivals: Bool,
        layout: SourceLayout? = nil
    ) async throws -> EPFlowResult {
        let call =
            calls[key]
            ?? EPFlowCall(
                plan: plans.plan(kind, layouts: layouts, placement: placement), placement: placement,
                tracksArrivals: tracksArrivals)
        calls[key] = call
        if let failure = call.failure { throw failure }
        let resolved: [Int]
        do {
            resolved = try call.join(rank, nowNs: simulation.executor.nowNs, layout: layout)
        } catch {
            // A refused booking fails the call: every rank parked on it wakes and throws the same error.
            call.failure = error
            call.wakeAll()
            throw error
        }
        for done in resolved where done != rank { call.wake(done) }
        if !call.resolved[rank] {
            let waiter = CancellableWaiter<Void>()
            call.park(rank, waiter)
            let process = ProcessID.current
            simulation.noteWait(process, describedBy: self, key, rank)
            defer { simulation.noteWait(process, on: nil) }
            try await waiter.wait()
            if let failure = call.failure { throw failure }
        }
        let result = result(of: call, rank: rank)
        call.returned += 1
        if call.returned == placement.rankCount { calls[key] = nil }
        return result
    }

    private func result(of call: EPFlowCall, rank: Int) -> EPFlowResult {
        let ranks = placement.rankCount
        let arrivals = call.arrivalNs.isEmpty ? [] : Array(call.arrivalNs[(rank * ranks)..<((rank + 1) * ranks)])
        var result = EPFlowResult(completionNs: call.doneNs[rank], traffic: call.traffic[rank], arrivalNs: arrivals)
        if case .counts = call.kind { result.layouts = call.publishedLayouts }
        return result
    }
}

extension EPFlowExchange: WaitDescribing {
    /// `flow-level all-to-all 65536: rank 3 waits for the ranks it exchanges with to join`, for deadlock reports.
    nonisolated func waitDescription(_ first: Int, _ second: Int) -> String {
        "flow-level all-to-all \(first): rank \(second) waits for the ranks it exchanges with to join"
    }
}
