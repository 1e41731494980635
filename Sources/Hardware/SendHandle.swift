import SimCore

/// A message that was sent without waiting: its route, size and chunking, and a way to wait for delivery.
public struct SendHandle: Sendable, CustomStringConvertible {
    let transfer: Transfer
    let simulation: Simulation

    /// The links the message crosses.
    public var route: Route { transfer.route }
    /// Bytes on the wire.
    public var bytes: Int { transfer.bytes }
    /// How many chunks the message was split into.
    public var chunkCount: Int { transfer.chunkCount }
    /// When the send was issued.
    public var sentAt: SimInstant { transfer.sentAt }
    /// When the last chunk reached the destination, or nil while in flight.
    public var deliveredAt: SimInstant? { transfer.deliveredAt }

    /// Returns once the whole message has reached the destination GPU; throws `CancellationError` if the task
    /// is cancelled while it waits.
    public func wait() async throws { try await transfer.waitDelivered(in: simulation) }

    /// Processes waiting for this message's delivery now.
    public var waiterCount: Int { transfer.waiterCount }

    /// `gpu0 -> gpu3 tag 1: 1048576 bytes in 4 chunks, path gpu0 -> gpu0.comm.out -> … -> gpu3 (nvlink)`.
    public var description: String {
        "\(transfer.source) -> \(transfer.destinationID) tag \(transfer.tag): \(bytes) bytes in \(chunkCount) "
            + (chunkCount == 1 ? "chunk" : "chunks") + ", path \(route)"
    }
}
