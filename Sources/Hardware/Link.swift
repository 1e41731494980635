import DequeModule
import SimCore

/// One direction of a wire: the egress queue of the actor that sends on it (a GPU's comm partition, an NVLink
/// or NIC port, a switch port).
///
/// Chunks queue per flow (one flow per message); the link serialises one chunk at a time at its bandwidth,
/// taking flows round-robin, then hands the chunk to the next hop after its latency. Two short-lived processes
/// do the timing, each running only while it has work: the transmitter and the delay line (in-flight chunks
/// in arrival order, which latency keeps monotonic).
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
    /// Serialisation rate in bytes per second.
    public private(set) var bytesPerSecond: Double

    private let track: TraceTrackID
    private var flows = Deque<Flow>()
    private var inService: Transfer?
    private var isTransmitting = false
    private var inFlight = Deque<InFlightChunk>()
    private var isDelivering = false
    private var stats = LinkStats()

    private struct Flow {
        let transfer: Transfer
        let hop: Int
    }

    private struct InFlightChunk {
        let transfer: Transfer
        let hop: Int
        let deliverAtNs: Int64
    }

    init(owner: String, port: String, bytesPerSecond: Double, latency: SimDuration, in simulation: Simulation) {
        self.simulation = simulation
        self.owner = owner
        self.port = port
        self.name = owner + "." + port
        self.bytesPerSecond = bytesPerSecond
        self.latency = latency
        self.track = simulation.trace.track(actor: owner, lane: port)
    }

    /// Bytes, busy time and busy intervals so far.
    public var statistics: LinkStats { stats }

    /// Changes the serialisation rate for chunks that start from now on.
    func setBytesPerSecond(_ value: Double) throws {
        try HardwareError.requirePositive(value, "\(name) bytesPerSecond")
        bytesPerSecond = value
    }

    /// The time one chunk of `bytes` occupies the link, rounded up to whole nanoseconds.
    public func transmissionTime(bytes: Int) -> SimDuration {
        SimDuration(nanoseconds: Int64((Double(bytes) * 1e9 / bytesPerSecond).rounded(.up)))
    }

    // MARK: - Transmitter

    /// Queues the next chunk of `transfer`, which is at position `hop` of its route.
    func accept(_ transfer: Transfer, hop: Int) {
        transfer.queuedChunks[hop] += 1
        if transfer.queuedChunks[hop] == 1 && inService !== transfer {
            flows.append(Flow(transfer: transfer, hop: hop))
        }
        guard !isTransmitting else { return }
        isTransmitting = true
        Task(executorPreference: simulation.executor) { await self.transmit() }
    }

    private func transmit() async {
        while let flow = flows.popFirst() {
            let transfer = flow.transfer
            transfer.queuedChunks[flow.hop] -= 1
            let bytes = transfer.takeChunk(atHop: flow.hop)
            let startNs = simulation.executor.nowNs
            let endNs = startNs + transmissionTime(bytes: bytes).nanoseconds
            inService = transfer
            // Link processes are never cancelled, so the sleep cannot throw.
            if endNs > startNs { try? await simulation.clock.sleep(until: SimInstant(nanosecondsSinceStart: endNs)) }
            inService = nil
            record(transfer, bytes: bytes, startNs: startNs, endNs: endNs)
            if transfer.queuedChunks[flow.hop] > 0 { flows.append(flow) }
            if latency == .zero {
                await transfer.forward(fromHop: flow.hop)
            } else {
                inFlight.append(InFlightChunk(transfer: transfer, hop: flow.hop, deliverAtNs: endNs + latency.nanoseconds))
                startDelayLine()
            }
        }
        isTransmitting = false
    }

    private func record(_ transfer: Transfer, bytes: Int, startNs: Int64, endNs: Int64) {
        stats.add(bytes: bytes, startNs: startNs, endNs: endNs)
        simulation.trace.span(
            track, "chunk", start: SimInstant(nanosecondsSinceStart: startNs),
            end: SimInstant(nanosecondsSinceStart: endNs),
            args: ["bytes": .int(Int64(bytes)), "src": .int(Int64(transfer.source.index)),
                "dst": .int(Int64(transfer.destinationID.index))])
    }

    // MARK: - Delay line

    private func startDelayLine() {
        guard !isDelivering else { return }
        isDelivering = true
        Task(executorPreference: simulation.executor) { await self.deliver() }
    }

    private func deliver() async {
        while let chunk = inFlight.first {
            if chunk.deliverAtNs > simulation.executor.nowNs {
                try? await simulation.clock.sleep(until: SimInstant(nanosecondsSinceStart: chunk.deliverAtNs))
            }
            inFlight.removeFirst()
            await chunk.transfer.forward(fromHop: chunk.hop)
        }
        isDelivering = false
    }
}
