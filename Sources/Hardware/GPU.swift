import DequeModule
import SimCore
import Tensors

/// One GPU: a compute and a communication `SMPartition`, HBM accounting, and tensor messages to other GPUs.
///
/// Sends are carried by the communication partition: every chunk leaves through `commOut`, whose rate is the
/// partition's SM count times the spec's `bytesPerSecondPerSM`. Each send is a trace instant on lane `sends`
/// whose `path` argument prints the route. Messages between one pair of GPUs with one tag
/// are received in the order they were sent.
public actor GPU: SimulatedActor {
    public nonisolated let simulation: Simulation
    public nonisolated let id: GPUID
    /// `gpu9`.
    public nonisolated let name: String
    public nonisolated let spec: GPUSpec
    /// Runs the model's kernels.
    public nonisolated let compute: SMPartition
    /// Runs communication kernels and pushes every outgoing chunk.
    public nonisolated let comm: SMPartition
    /// The comm partition's egress (`gpu9.comm.out`): the SM cap on what this GPU sends.
    public nonisolated let commOut: Link
    /// NVLink from this GPU into its node's NVSwitch (`gpu9.nvlink.out`).
    public nonisolated let nvlinkOut: Link
    /// Byte accounting of this GPU's memory.
    public private(set) var hbm: HBM

    private let fabric: Fabric
    /// The trace lane where every send is an instant carrying its printed path.
    private let sendTrack: TraceTrackID
    private var inbox: [MessageKey: Deque<Transfer>] = [:]  // lookup only, never iterated
    private var receivers: [MessageKey: Deque<Receiver>] = [:]  // lookup only, never iterated
    /// Receivers filed in `receivers`, over every key.
    private var receiverCount = 0
    /// Messages whose last chunk is on its final wire, by arrival instant.
    private var deliveries = TimedQueue<Transfer>()

    /// Standard routes by destination index, with their printed paths' trace strings (see `cachedRoute`).
    private var routes: [Int: CachedRoute] = [:]  // lookup only, never iterated

    private struct CachedRoute {
        let route: Route
        /// The trace string index of `route.description`, -1 until first recorded.
        var pathIndex: Int32 = -1
    }

    private struct MessageKey: Hashable {
        let source: Int
        let tag: Int
    }

    private struct Receiver {
        let waiter: CancellableWaiter<Transfer>
        let process: ProcessID?
    }

    init(id: GPUID, spec: GPUSpec, commSMCount: Int, fabric: Fabric, in simulation: Simulation) {
        self.simulation = simulation
        self.id = id
        self.name = id.description
        self.spec = spec
        self.fabric = fabric
        compute = SMPartition(
            gpuName: name, role: .compute, smCount: spec.smCount - commSMCount, spec: spec, in: simulation)
        comm = SMPartition(gpuName: name, role: .comm, smCount: commSMCount, spec: spec, in: simulation)
        commOut = fabric.commOut[id.index]
        nvlinkOut = fabric.nvlinkOut[id.index]
        hbm = HBM(gpuName: name, capacityBytes: spec.hbmBytes)
        sendTrack = simulation.trace.track(actor: name, lane: "sends")
    }

    // MARK: - SM split and memory

    /// Moves the compute/communication split to `commSMCount` SMs for communication (the rest compute); the
    /// comm egress rate follows. Affects kernels and chunks that start afterwards.
    public func reserveCommSMs(_ commSMCount: Int) async throws {
        guard commSMCount >= 1, commSMCount < spec.smCount else {
            throw HardwareError.invalidParameter(
                name: "\(name) commSMCount", value: "\(commSMCount)", reason: "must be in 1...\(spec.smCount - 1)")
        }
        await compute.setSMCount(spec.smCount - commSMCount)
        await comm.setSMCount(commSMCount)
        try await commOut.setBytesPerSecond(Double(commSMCount) * spec.bytesPerSecondPerSM)
    }

    /// Allocates `bytes` of `kind` in HBM; throws `outOfMemory` past capacity.
    public func allocate(_ bytes: Int, _ kind: MemoryKind) throws {
        try hbm.allocate(bytes, kind)
        recordMemory(kind)
    }

    /// Starts the HBM peaks afresh from what is allocated now (see `HBM.resetPeaks()`).
    public func resetMemoryPeaks() { hbm.resetPeaks() }

    /// Frees `bytes` of `kind`; throws when more than is allocated.
    public func free(_ bytes: Int, _ kind: MemoryKind) throws {
        try hbm.free(bytes, kind)
        recordMemory(kind)
    }

    /// A counter sample of `kind`'s bytes now (unhashed trace annotation, a counter track in Perfetto).
    private func recordMemory(_ kind: MemoryKind) {
        simulation.trace.counter(
            sendTrack, "hbm", series: kind.rawValue, at: simulation.now, value: Double(hbm.currentBytes(kind)))
    }

    // MARK: - Sending

    /// Sends `tensor` to `destination` and returns once it has fully arrived there; `wireBytes` (default: the
    /// tensor's `byteCount`) is what crosses the links, e.g. FP8 plus scales for a tensor stored as Float.
    public func send(_ tensor: Tensor, to destination: GPUID, tag: Int, wireBytes: Int? = nil) async throws {
        let handle = try startSend(tensor, to: destination, tag: tag, wireBytes: wireBytes)
        try await handle.wait()
    }

    /// Starts sending `tensor` to `destination` and returns at once; `wait()` on the handle for delivery.
    /// `wireBytes` (default: the tensor's `byteCount`) sets the bytes on the wire independently of the storage.
    /// `flowFillSlices`: booked as a bulk flow (`phantom-flows`), the message stands for that many equal slices
    /// sent together, so its store-and-forward fill is one slice's.
    public func startSend(
        _ tensor: Tensor, to destination: GPUID, tag: Int, wireBytes: Int? = nil, flowFillSlices: Int = 1
    ) throws -> SendHandle {
        if let wireBytes, wireBytes < 0 {
            throw HardwareError.invalidParameter(
                name: "\(name) send wireBytes", value: "\(wireBytes)", reason: "must be >= 0")
        }
        let bytes = wireBytes ?? tensor.byteCount
        let target = try fabric.gpu(destination)
        var cached = try cachedRoute(to: destination)
        let route = cached.route
        let spec = fabric.spec
        let asFlow = spec.phantomMessagesAsFlows && tensor.isPhantom && !route.links.isEmpty
        let chunkCount =
            route.links.isEmpty || asFlow
            ? 1
            : Transfer.chunkCount(
                bytes: bytes, minChunkBytes: spec.minChunkBytes, maxChunks: spec.maxChunksPerMessage)
        let nowNs = simulation.executor.nowNs
        // A phantom message as a bulk flow: booked on its route's links now, delivered when it arrives.
        let flowArrivalNs =
            asFlow
            ? try fabric.bookFlow(
                route, bytes: bytes, startNs: nowNs, nowNs: nowNs, fillBytes: bytes / max(1, flowFillSlices))
            : nil
        let transfer = Transfer(
            tensor: tensor, bytes: bytes, tag: tag, route: route, destination: target, chunkCount: chunkCount,
            sentAt: simulation.now)
        transfer.isBulkFlow = flowArrivalNs != nil
        transfer.sourceTraceTrack = sendTrack
        transfer.sendTraceRecord = simulation.trace.storesEvents ? simulation.trace.nextRecordIndex : -1
        recordSend(transfer, to: destination, route: &cached)
        fabric.ledger.noteSent(transfer)
        // The destination and the links share this GPU's executor: enter them synchronously.
        target.enter { $0.expect(transfer) }
        if let flowArrivalNs {
            target.enter { $0.chunkArrived(transfer, atNs: flowArrivalNs) }
        } else if let first = route.links.first {
            first.enter { link in
                for _ in 0..<chunkCount { link.accept(transfer, hop: 0, readyAtNs: nowNs) }
            }
        } else {
            target.enter { $0.chunkArrived(transfer, atNs: nowNs) }
        }
        return SendHandle(transfer: transfer, simulation: simulation)
    }

    /// The route to `destination` with its printed path's trace string once recorded: the cluster's standard
    /// route comes from the cache while no link is down, any other from the fabric.
    private func cachedRoute(to destination: GPUID) throws -> CachedRoute {
        guard fabric.downLinkCount == 0 else { return CachedRoute(route: try fabric.route(from: id, to: destination)) }
        if let known = routes[destination.index] { return known }
        let entry = CachedRoute(route: try fabric.route(from: id, to: destination))
        routes[destination.index] = entry
        return entry
    }

    /// The send instant on lane `sends`, whose `path` argument prints the route (built once per standard route).
    private func recordSend(_ transfer: Transfer, to destination: GPUID, route cached: inout CachedRoute) {
        let trace = simulation.trace
        trace.beginInstant(sendTrack, TraceNames.send, atNs: simulation.executor.nowNs)
        trace.addArgument(TraceNames.bytes, Int64(transfer.bytes))
        trace.addArgument(TraceNames.destination, Int64(destination.index))
        trace.addArgument(TraceNames.tag, Int64(transfer.tag))
        trace.addArgument(TraceNames.chunks, Int64(transfer.chunkCount))
        if cached.pathIndex >= 0 {
            trace.addArgument(TraceNames.path, interned: cached.pathIndex)
        } else {
            cached.pathIndex = trace.addArgument(TraceNames.path, cached.route.description)
            if cached.route.kind != .detour, fabric.downLinkCount == 0 { routes[destination.index] = cached }
        }
        trace.endRecord()
    }

    // MARK: - Receiving

    /// The next tensor `source` sent with `tag`, waiting until it has fully arrived. Throws
    /// `CancellationError` if the task is cancelled while it waits (the message stays for the next receive).
    public func receive(from source: GPUID, tag: Int) async throws -> Tensor {
        try await receiveMessage(from: source, tag: tag).tensor
    }

    /// The next tensor `source` sent with `tag` and the instant its send started, waiting until it has fully
    /// arrived (a receiver's wait splits there: before it the sender was not done, after it the wire was).
    /// Throws `CancellationError` as `receive` does.
    public func receiveMessage(from source: GPUID, tag: Int) async throws -> (tensor: Tensor, sentAt: SimInstant) {
        let key = MessageKey(source: source.index, tag: tag)
        if receivers[key] == nil, let head = inbox[key]?.first, head.deliveredAt != nil {
            popInbox(key)
            return (head.tensor, head.sentAt)
        }
        let waiter = CancellableWaiter<Transfer>()
        let process = ProcessID.current
        simulation.noteWait(process, describedBy: self, source.index, tag)
        receivers[key, default: []].append(Receiver(waiter: waiter, process: process))
        receiverCount += 1
        let transfer: Transfer
        do {
            transfer = try await waiter.wait()
        } catch {
            // Cancelled: leave no receiver behind, and hand an arrived message on to the next one in line.
            simulation.noteWait(process, on: nil)
            if let index = receivers[key]?.firstIndex(where: { $0.waiter === waiter }) {
                receivers[key]?.remove(at: index)
                if receivers[key]?.isEmpty == true { receivers[key] = nil }
                receiverCount -= 1
            }
            handOver(key)
            throw error
        }
        return (transfer.tensor, transfer.sentAt)
    }

    /// Receivers waiting now, over every source and tag (0 once every receive returned or was cancelled).
    public var waitingReceiverCount: Int { receiverCount }

    /// Messages from `source` with `tag` that were sent here and not yet received (arrived or not).
    public func pendingMessageCount(from source: GPUID, tag: Int) -> Int {
        inbox[MessageKey(source: source.index, tag: tag)]?.count ?? 0
    }

    /// Registers a message that was just sent here, fixing its place in the receive order.
    func expect(_ transfer: Transfer) {
        inbox[MessageKey(source: transfer.source.index, tag: transfer.tag), default: []].append(transfer)
    }

    /// Counts in one chunk that gets here at `atNs`; the last one completes the message then.
    func chunkArrived(_ transfer: Transfer, atNs: Int64) {
        guard transfer.noteChunkArrived() else {
            let message = transfer.root
            if message.completedChunks > message.chunkCount { fabric.ledger.noteExtraChunk(message) }
            return
        }
        let message = transfer.root
        if atNs <= simulation.executor.nowNs { return complete(message) }
        guard let token = deliveries.insert(message, readyAtNs: atNs) else { return }
        Task { await self.deliver(token: token) }
    }

    /// The GPU's delivery process: completes each message when its last chunk gets here.
    private func deliver(token: Int) async {
        while deliveries.isLive(token) {
            while let transfer = deliveries.popReady(nowNs: simulation.executor.nowNs) { complete(transfer) }
            guard let readyNs = deliveries.firstReadyNs else {
                deliveries.noteStopped()
                return
            }
            deliveries.noteIdleSleep(until: readyNs)
            // Delivery processes are never cancelled, so the sleep cannot throw.
            await simulation.clock.sleepUncancellable(until: SimInstant(nanosecondsSinceStart: readyNs))
        }
    }

    /// Marks `transfer` delivered now and hands arrived messages to waiting receivers in send order.
    private func complete(_ transfer: Transfer) {
        transfer.markDelivered(at: simulation.now, in: simulation)
        if let sourceTrack = transfer.sourceTraceTrack {
            simulation.trace.flow(
                from: sourceTrack, sent: transfer.sentAt, to: sendTrack, delivered: simulation.now,
                bytes: transfer.bytes, tag: transfer.tag, sendRecord: transfer.sendTraceRecord)
        }
        fabric.ledger.noteDelivered(transfer)
        handOver(MessageKey(source: transfer.source.index, tag: transfer.tag))
    }

    /// Hands arrived messages of `key` to its waiting receivers in send order (skipping cancelled ones).
    private func handOver(_ key: MessageKey) {
        while let head = inbox[key]?.first, head.deliveredAt != nil, let receiver = receivers[key]?.first {
            receivers[key]?.removeFirst()
            if receivers[key]?.isEmpty == true { receivers[key] = nil }
            receiverCount -= 1
            guard receiver.waiter.resume(returning: head) else { continue }
            popInbox(key)
            simulation.noteWait(receiver.process, on: nil)
        }
    }

    private func popInbox(_ key: MessageKey) {
        inbox[key]?.removeFirst()
        if inbox[key]?.isEmpty == true { inbox[key] = nil }
    }
}

extension GPU: WaitDescribing {
    /// `gpu3 receive from gpu0 tag 1` for a wait noted with source index 0 and tag 1 (the deadlock report).
    public nonisolated func waitDescription(_ first: Int, _ second: Int) -> String {
        "\(name) receive from \(GPUID(first)) tag \(second)"
    }
}

extension GPU {
    /// Test-only: corrupts this GPU's HBM accounting of `kind`, so tests can see the checks catch it.
    func corruptHBMForTesting(_ kind: MemoryKind, currentBytes: Int) {
        hbm.corruptForTesting(kind, currentBytes: currentBytes)
    }
}
