import DequeModule
import SimCore

/// One direction of a wire: the egress queue of the actor that sends on it (a GPU's comm partition, an NVLink
/// or NIC port, a switch port).
///
/// Chunks queue per flow (one flow per message); the link serialises one chunk at a time at its bandwidth,
/// taking flows round-robin, and hands each finished chunk to the next hop marked with the instant it gets
/// there (end plus this link's latency). One process per link does the timing, and only while it has chunks
/// in flight towards it or queued: no task or timer per chunk beyond the one sleep that serialises it.
public actor Link: SimulatedActor {
    public nonisolated let simulation: Simulation
    /// Stable lookup name: the owner's name, a dot, the port (`node1.nvswitch.port3.out`).
    public nonisolated let name: String
    /// The actor that owns (sends on) this link; its trace "process".
    public nonisolated let owner: String
    /// The port's name on its owner; its trace lane.
    public nonisolated let port: String
    /// Propagation and switching latency added to every chunk after it is serialised.
    public nonisolated let latency: SimDuration
    /// Nominal serialisation rate in bytes per second.
    public private(set) var bytesPerSecond: Double
    /// The fraction of `bytesPerSecond` the link runs at (below 1 while degraded or its GPU is slowed).
    public private(set) var bandwidthFactor = 1.0
    /// False while a fault holds the link down: it starts no chunk and holds the ones that reach it.
    public private(set) var isUp = true
    /// Chunks handed to this link so far (by the sender or the previous hop).
    public private(set) var chunksIn = 0
    /// Bytes of the chunks handed to this link so far.
    public private(set) var bytesIn = 0
    /// Chunks this link dropped while down because their message's rest was resent around it, and their bytes.
    public private(set) var droppedChunks = 0
    public private(set) var droppedBytes = 0
    /// Test-only damage to the next chunk the link serialises, for checking the conservation checks.
    var testingDamage: TestingDamage?

    private let track: TraceTrackID
    /// Chunks on their way in, by the instant they reach this port.
    private var arriving = TimedQueue<Flow>()
    /// Flows with a chunk ready to go, in round-robin order.
    private var flows = Deque<Flow>()
    private var inService: Transfer?
    private var stats = LinkStats()
    /// The bulk flows booked on this link (`Cluster.bookFlow`), kept apart from the chunks it serialises.
    nonisolated let flowPort: FlowPort

    private struct Flow {
        let transfer: Transfer
        let hop: Int
    }

    /// How the test hook breaks a delivery.
    enum TestingDamage {
        /// Serialise the next chunk but never hand it on.
        case dropNextChunk
        /// Hand the next chunk on twice.
        case duplicateNextChunk
    }

    init(owner: String, port: String, bytesPerSecond: Double, latency: SimDuration, in simulation: Simulation) {
        self.simulation = simulation
        self.owner = owner
        self.port = port
        self.name = owner + "." + port
        self.bytesPerSecond = bytesPerSecond
        flowPort = FlowPort(bytesPerSecond: bytesPerSecond)
        self.latency = latency
        self.track = simulation.trace.track(actor: owner, lane: port)
    }

    /// Bytes and busy time of the chunks serialised so far.
    public var statistics: LinkStats { stats }

    /// Bytes and busy time of the bulk flows booked so far (`Cluster.bookFlow`).
    public var flowStatistics: LinkStats { flowPort.stats }

    /// Changes the serialisation rate for chunks that start from now on.
    func setBytesPerSecond(_ value: Double) throws {
        try HardwareError.requirePositive(value, "\(name) bytesPerSecond")
        bytesPerSecond = value
        flowPort.bytesPerSecond = effectiveBytesPerSecond
    }

    /// The rate chunks serialise at now: `bytesPerSecond × bandwidthFactor`.
    public var effectiveBytesPerSecond: Double { bytesPerSecond * bandwidthFactor }

    /// The time one chunk of `bytes` occupies the link, rounded up to whole nanoseconds.
    public func transmissionTime(bytes: Int) -> SimDuration {
        SimDuration(nanoseconds: Int64((Double(bytes) * 1e9 / effectiveBytesPerSecond).rounded(.up)))
    }

    // MARK: - Faults

    /// Runs the link at `factor` of its nominal rate for chunks that start from now on.
    func setBandwidthFactor(_ factor: Double) throws {
        guard factor > 0, factor <= 1, bytesPerSecond * factor >= HardwareError.minimumBytesPerSecond else {
            throw HardwareError.invalidParameter(
                name: "\(name) bandwidth factor", value: "\(factor)",
                reason: "must be in (0, 1] and leave at least 1 MB/s")
        }
        bandwidthFactor = factor
        flowPort.bytesPerSecond = effectiveBytesPerSecond
    }

    /// Takes the link down (it finishes the chunk on the wire, then holds every chunk that reaches it) or
    /// brings it back up (held chunks resume at once). Call from the simulation's driving thread.
    func setUp(_ up: Bool) {
        guard up != isUp else { return }
        isUp = up
        simulation.trace.instant(track, up ? "link up" : "link down", at: simulation.now, args: [:])
        guard up, !flows.isEmpty || !arriving.isEmpty, let token = arriving.restartIfStopped() else { return }
        Task { await self.transmit(token: token) }
    }

    /// Chunks queued here (arriving, waiting or on the wire) and the messages they belong to, in queue order.
    var held: (chunks: Int, transfers: [Transfer]) {
        var transfers: [Transfer] = inService.map { [$0] } ?? []
        var chunks = inService.map { 1 + $0.queuedChunks[hopOf($0)] } ?? 0
        for flow in flows {
            chunks += flow.transfer.queuedChunks[flow.hop]
            if !transfers.contains(where: { $0 === flow.transfer }) { transfers.append(flow.transfer) }
        }
        for flow in arriving.pendingItems {
            chunks += 1
            if !transfers.contains(where: { $0 === flow.transfer }) { transfers.append(flow.transfer) }
        }
        return (chunks, transfers)
    }

    /// Drops the chunks of `transfer` (at position `hop` of its route) that are queued here and every one that
    /// reaches this link from now on: the rest of the message was resent around it. The chunk on the wire
    /// finishes.
    func drop(_ transfer: Transfer, hop: Int) {
        transfer.cut(atHop: hop)
        var bytes = 0
        var chunks = 0
        let queued = transfer.queuedChunks[hop]
        // Queued chunks are the next ones to start, in order: size them as `takeChunk` would.
        for index in 0..<queued { bytes += transfer.chunkBytes(transfer.startedChunks[hop] + index) }
        chunks += queued
        transfer.queuedChunks[hop] = 0
        flows.removeAll { $0.transfer === transfer }
        let arrivals = arriving.removeAll { $0.transfer === transfer }
        for index in 0..<arrivals { bytes += transfer.chunkBytes(transfer.startedChunks[hop] + queued + index) }
        chunks += arrivals
        noteDropped(chunks, bytes: bytes)
    }

    private func noteDropped(_ chunks: Int, bytes: Int) {
        droppedChunks += chunks
        droppedBytes += bytes
    }

    private func hopOf(_ transfer: Transfer) -> Int { transfer.route.links.firstIndex { $0 === self } ?? 0 }

    // MARK: - Transmitter

    /// Queues the next chunk of `transfer`, at position `hop` of its route; it reaches the port at `readyAtNs`.
    func accept(_ transfer: Transfer, hop: Int, readyAtNs: Int64) {
        chunksIn += 1
        let bytes = transfer.noteChunkAccepted(atHop: hop)
        bytesIn += bytes
        if transfer.isCut(atHop: hop) { return noteDropped(1, bytes: bytes) }
        guard let token = arriving.insert(Flow(transfer: transfer, hop: hop), readyAtNs: readyAtNs) else { return }
        Task { await self.transmit(token: token) }
    }

    /// The port's process: serialises ready chunks round-robin across flows, sleeping while none is ready.
    private func transmit(token: Int) async {
        while arriving.isLive(token) {
            let nowNs = simulation.executor.nowNs
            while let flow = arriving.popReady(nowNs: nowNs) { admit(flow) }
            if !isUp {
                // Down: the queued chunks wait; `setUp(true)` starts a new process for them.
                arriving.noteStopped()
                return
            }
            if let flow = flows.popFirst() {
                await send(flow, startNs: nowNs)
            } else if let readyNs = arriving.firstReadyNs {
                arriving.noteIdleSleep(until: readyNs)
                // Link processes are never cancelled, so the sleeps cannot throw.
                await simulation.clock.sleepUncancellable(until: SimInstant(nanosecondsSinceStart: readyNs))
                if arriving.isLive(token) { arriving.noteIdleSleep(until: nil) }
            } else {
                arriving.noteStopped()
                return
            }
        }
    }

    /// Counts one arrived chunk into its flow, which joins the round-robin if it had none waiting.
    private func admit(_ flow: Flow) {
        flow.transfer.queuedChunks[flow.hop] += 1
        if flow.transfer.queuedChunks[flow.hop] == 1 && inService !== flow.transfer { flows.append(flow) }
    }

    private func send(_ flow: Flow, startNs: Int64) async {
        let transfer = flow.transfer
        transfer.queuedChunks[flow.hop] -= 1
        let bytes = transfer.takeChunk(atHop: flow.hop)
        let endNs = startNs + transmissionTime(bytes: bytes).nanoseconds
        inService = transfer
        if endNs > startNs {
            await simulation.clock.sleepUncancellable(until: SimInstant(nanosecondsSinceStart: endNs))
        }
        inService = nil
        stats.add(bytes: bytes, startNs: startNs, endNs: endNs, nowNs: endNs)
        let trace = simulation.trace
        trace.beginSpan(track, TraceNames.chunk, startNs: startNs, endNs: endNs)
        trace.addArgument(TraceNames.bytes, Int64(bytes))
        trace.addArgument(TraceNames.source, Int64(transfer.source.index))
        trace.addArgument(TraceNames.destination, Int64(transfer.destinationID.index))
        trace.endRecord()
        if transfer.queuedChunks[flow.hop] > 0 { flows.append(flow) }
        let damage = testingDamage
        testingDamage = nil
        if damage == .dropNextChunk { return }
        transfer.forward(fromHop: flow.hop, arrivingAtNs: endNs + latency.nanoseconds)
        if damage == .duplicateNextChunk {
            transfer.forward(fromHop: flow.hop, arrivingAtNs: endNs + latency.nanoseconds)
        }
    }
}
