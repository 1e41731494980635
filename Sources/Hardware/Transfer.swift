import SimCore
import Tensors

/// One tensor message in flight: its route, how its bytes split into chunks, and per-hop progress.
///
/// Confined to the simulation's executor: every access comes from simulated actors or processes, which all run
/// on that one thread, so the mutable state needs no locking.
final class Transfer: @unchecked Sendable {
    let source: GPUID
    let destinationID: GPUID
    let destination: GPU
    let tag: Int
    let tensor: Tensor
    let route: Route
    let bytes: Int
    let chunkCount: Int
    let sentAt: SimInstant
    /// The sender's `sends` trace lane, where the message's flow arrow starts.
    var sourceTraceTrack: TraceTrackID?
    /// The stored index of the send instant (-1 when the trace keeps no events).
    var sendTraceRecord = -1
    /// Chunks waiting in the queue of each hop's link.
    var queuedChunks: [Int]
    /// Chunks each hop's link has started to serialise.
    private(set) var startedChunks: [Int]
    /// Chunks handed to each hop's link.
    private(set) var acceptedChunks: [Int]
    /// Chunks of this transfer that reached the destination over its own route.
    private(set) var arrivedChunks = 0
    /// Chunks of the message counted in at the destination, its resends' included (on the root only).
    private(set) var completedChunks = 0
    /// The message whose remainder this transfer resends around a down link; nil for a message as sent.
    var parent: Transfer?
    /// Chunks that may still cross this transfer's whole route; the others were resent (`Fabric.resendAround`).
    var allowedThroughChunks: Int
    /// Hops whose (down) link drops this transfer's chunks: what had not started there went on a resend.
    private(set) var cutHops: [Int] = []
    /// Times the message was marked delivered (exactly one once it has arrived).
    private(set) var deliveryCount = 0
    /// The message's number in its fabric's ledger, in send order.
    var serial = 0
    /// Whether it travels as a bulk flow (`phantom-flows`): booked on its links at once, never in chunks.
    var isBulkFlow = false
    private(set) var deliveredAt: SimInstant?
    private var waiters: [(waiter: CancellableWaiter<Void>, process: ProcessID?)] = []

    init(tensor: Tensor, bytes: Int, tag: Int, route: Route, destination: GPU, chunkCount: Int, sentAt: SimInstant) {
        self.source = route.source
        self.destinationID = route.destination
        self.destination = destination
        self.tag = tag
        self.tensor = tensor
        self.route = route
        self.bytes = bytes
        self.chunkCount = chunkCount
        self.sentAt = sentAt
        allowedThroughChunks = chunkCount
        queuedChunks = [Int](repeating: 0, count: route.links.count)
        startedChunks = queuedChunks
        acceptedChunks = queuedChunks
    }

    /// The number of chunks a message of `bytes` splits into: one per `minChunkBytes`, at most `maxChunks`.
    static func chunkCount(bytes: Int, minChunkBytes: Int, maxChunks: Int) -> Int {
        min(maxChunks, max(1, (bytes + minChunkBytes - 1) / minChunkBytes))
    }

    /// The size of the next chunk the link at `hop` serialises (sizes differ by at most one byte).
    func takeChunk(atHop hop: Int) -> Int {
        let index = startedChunks[hop]
        startedChunks[hop] += 1
        return chunkBytes(index)
    }

    /// The size of chunk `index` (the first `bytes % chunkCount` chunks carry one byte more).
    func chunkBytes(_ index: Int) -> Int { bytes / chunkCount + (index < bytes % chunkCount ? 1 : 0) }

    /// Counts one chunk handed to the link at `hop`; returns its size, for the link's bytes-in count.
    func noteChunkAccepted(atHop hop: Int) -> Int {
        let index = acceptedChunks[hop]
        acceptedChunks[hop] += 1
        return chunkBytes(index)
    }

    /// `gpu0->gpu3 tag 1`.
    var label: String { "\(source)->\(destinationID) tag \(tag)" }

    /// Hands a chunk that finished crossing `hop` to the next link, or to the destination after the last one;
    /// it gets there at `arrivingAtNs`.
    ///
    /// Every simulated actor runs on the simulation's one executor, so the caller (a link or GPU on it) may
    /// enter the next actor synchronously: no task switch per chunk.
    func forward(fromHop hop: Int, arrivingAtNs: Int64) {
        let next = hop + 1
        if next < route.links.count {
            route.links[next].enter { $0.accept(self, hop: next, readyAtNs: arrivingAtNs) }
        } else {
            destination.enter { $0.chunkArrived(self, atNs: arrivingAtNs) }
        }
    }

    /// The message as sent: the transfer itself, or the one its resends go back to.
    var root: Transfer { parent?.root ?? self }

    /// Whether the link at `hop` drops this transfer's chunks (it went down and the rest was resent).
    @inline(__always)
    func isCut(atHop hop: Int) -> Bool { !cutHops.isEmpty && cutHops.contains(hop) }

    /// Marks the link at `hop` as dropping this transfer's chunks from now on.
    func cut(atHop hop: Int) { if !cutHops.contains(hop) { cutHops.append(hop) } }

    /// Counts one chunk of this transfer in at the destination and credits it to the message; true when that
    /// was the message's last chunk.
    func noteChunkArrived() -> Bool {
        arrivedChunks += 1
        let message = root
        message.completedChunks += 1
        return message.completedChunks == message.chunkCount
    }

    /// Marks the message delivered at `time` and wakes everyone waiting for it.
    func markDelivered(at time: SimInstant, in simulation: Simulation) {
        deliveryCount += 1
        guard deliveredAt == nil else { return }
        deliveredAt = time
        for entry in waiters where entry.waiter.resume(returning: ()) {
            simulation.noteWait(entry.process, on: nil)
        }
        waiters.removeAll()
    }

    /// Processes waiting for the delivery now.
    var waiterCount: Int { waiters.count }

    /// Returns once the message is delivered; throws `CancellationError` if the task is cancelled first (and
    /// leaves no waiter behind).
    func waitDelivered(in simulation: Simulation) async throws {
        if deliveredAt != nil { return }
        let waiter = CancellableWaiter<Void>()
        let process = ProcessID.current
        simulation.noteWait(process, describedBy: self, 0, 0)
        waiters.append((waiter, process))
        do {
            try await waiter.wait()
        } catch {
            simulation.noteWait(process, on: nil)
            waiters.removeAll { $0.waiter === waiter }
            throw error
        }
    }
}

extension Transfer: WaitDescribing {
    /// `delivery of gpu0->gpu3 tag 1`, for the deadlock report.
    func waitDescription(_ first: Int, _ second: Int) -> String { "delivery of \(source)->\(destinationID) tag \(tag)" }
}
