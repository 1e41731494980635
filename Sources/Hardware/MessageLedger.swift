import DequeModule

/// Every message a fabric has carried: how many were sent and delivered, the ones still on their way, and what
/// went wrong, for the conservation checks.
///
/// Confined to the simulation's executor like `Transfer`: the GPUs update it, the driver reads it between steps.
final class MessageLedger: @unchecked Sendable {
    private(set) var sentCount = 0
    private(set) var deliveredCount = 0
    /// Messages by serial from `firstPendingSerial` on; nil once delivered. The delivered head is trimmed.
    private var pending = Deque<Transfer?>()
    private var firstPendingSerial = 0
    /// Broken deliveries seen as they happened (a second delivery, a chunk too many).
    private(set) var anomalies: [String] = []
    /// Anomalies beyond this many are counted, not described.
    static let describedAnomalyLimit = 64
    private(set) var anomalyCount = 0

    /// Numbers `transfer` and counts it as sent.
    func noteSent(_ transfer: Transfer) {
        transfer.serial = sentCount
        sentCount += 1
        pending.append(transfer)
    }

    /// Counts `transfer` as delivered; a second delivery of the same message is an anomaly.
    func noteDelivered(_ transfer: Transfer) {
        guard transfer.deliveryCount == 1 else {
            return noteAnomaly("\(transfer.label) was delivered \(transfer.deliveryCount) times")
        }
        deliveredCount += 1
        let index = transfer.serial - firstPendingSerial
        guard pending.indices.contains(index) else { return }
        pending[index] = nil
        while let first = pending.first, first == nil {
            pending.removeFirst()
            firstPendingSerial += 1
        }
    }

    /// Records a chunk arriving at the destination beyond the message's chunk count.
    func noteExtraChunk(_ transfer: Transfer) {
        noteAnomaly(
            "\(transfer.label): \(transfer.completedChunks) chunks arrived at \(transfer.destinationID), "
                + "but it was sent as \(transfer.chunkCount)")
    }

    /// Messages sent and not yet delivered, in send order.
    var undelivered: [Transfer] { pending.compactMap { $0 } }

    /// Resends of undelivered messages' remainders around down links, in the order they were made.
    private var resends: [Transfer] = []
    /// Chunks resent so far, over every message.
    private(set) var resentChunkCount = 0

    /// Records `resend`, which carries part of an undelivered message around a down link (not a new message).
    func noteResend(_ resend: Transfer) {
        resends.removeAll { $0.root.deliveredAt != nil }
        resends.append(resend)
        resentChunkCount += resend.chunkCount
    }

    /// Every transfer still on its way: undelivered messages in send order, then their resends.
    var inFlight: [Transfer] { undelivered + resends.filter { $0.root.deliveredAt == nil } }

    private func noteAnomaly(_ text: String) {
        anomalyCount += 1
        if anomalies.count < Self.describedAnomalyLimit { anomalies.append(text) }
    }
}
