import SimCore

/// Messages caught on their way by a link that goes down.
///
/// A message whose route crosses the link and that still has chunks to send over it is split: the chunks
/// that have started on the link (the one on the wire finishes) go on along the old route; the rest are
/// dropped where the link meets them (queued there now, or arriving later from the hops before it) and the
/// source sends them again at once along the detour that a new message would take, as one resend transfer
/// whose chunks count towards the message at the destination. With no detour nothing changes: the chunks
/// wait at the down link, and a link that comes back up resumes them. Failure detection is instantaneous.
extension Fabric {
    /// Resends, around `link` (just gone down), the unsent rest of every message on its way across it.
    func resendAround(_ link: Link) {
        // A bulk flow was booked on its links when sent: it arrives as booked (flows model no faults).
        for transfer in ledger.inFlight where !transfer.isBulkFlow {
            guard let hop = transfer.route.links.firstIndex(where: { $0 === link }) else { continue }
            let started = transfer.startedChunks[hop]
            guard started < transfer.chunkCount else { continue }
            let allowed = transfer.allowedThroughChunks
            guard started < allowed else {
                // What has not started here was resent already, around a link further on: drop it here too.
                link.assumeIsolated { $0.drop(transfer, hop: hop) }
                continue
            }
            guard let detour = try? route(from: transfer.source, to: transfer.destinationID),
                Self.isUp(detour.links), let first = detour.links.first
            else { continue }
            link.assumeIsolated { $0.drop(transfer, hop: hop) }
            transfer.allowedThroughChunks = started
            resend(chunks: started..<allowed, of: transfer, along: detour, first: first, in: link.simulation)
        }
    }

    /// Sends chunks `indices` of `transfer` from its source along `detour`, as one transfer of those bytes.
    private func resend(
        chunks indices: Range<Int>, of transfer: Transfer, along detour: Route, first: Link, in simulation: Simulation
    ) {
        let bytes = indices.reduce(0) { $0 + transfer.chunkBytes($1) }
        let resend = Transfer(
            tensor: transfer.tensor, bytes: bytes, tag: transfer.tag, route: detour, destination: transfer.destination,
            chunkCount: indices.count, sentAt: simulation.now)
        resend.parent = transfer
        ledger.noteResend(resend)
        let track = simulation.trace.track(actor: transfer.source.description, lane: "sends")
        simulation.trace.instant(
            track, "resend", at: simulation.now,
            args: [
                "bytes": .int(Int64(bytes)), "dst": .int(Int64(transfer.destinationID.index)),
                "tag": .int(Int64(transfer.tag)), "chunks": .int(Int64(indices.count)),
                "path": .string(detour.description),
            ])
        let nowNs = simulation.executor.nowNs
        first.assumeIsolated { link in
            for _ in indices { link.accept(resend, hop: 0, readyAtNs: nowNs) }
        }
    }
}
