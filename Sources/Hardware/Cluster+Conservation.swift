import SimCore

/// The outcome of the conservation checks on a cluster: what was checked and every violation found.
public struct ConservationReport: Sendable, Equatable, CustomStringConvertible {
    /// Links checked.
    public var linkCount = 0
    /// GPUs whose HBM accounting was checked.
    public var gpuCount = 0
    /// Messages sent and delivered so far.
    public var sentCount = 0
    public var deliveredCount = 0
    /// Undelivered messages, all accounted for (held at down links, or in flight while work remains).
    public var undeliveredCount = 0
    /// Chunks resent around links that went down under them (`Fabric.resendAround`).
    public var resentChunkCount = 0
    /// Whether nothing was left to run (then every undelivered message must sit at a down link).
    public var isQuiescent = false
    /// What broke, each naming the link, message or GPU; empty when every check held.
    public var violations: [String] = []

    /// Whether every check held.
    public var holds: Bool { violations.isEmpty }

    public var description: String {
        guard holds else {
            return "conservation check failed: " + violations.prefix(8).joined(separator: "; ")
                + (violations.count > 8 ? "; and \(violations.count - 8) more" : "")
        }
        let pending = undeliveredCount > 0 ? ", \(undeliveredCount) on their way" : ""
        let resent = resentChunkCount > 0 ? " (\(resentChunkCount) chunk(s) resent around down links)" : ""
        return "conservation holds: \(linkCount) links (bytes in = bytes out), \(sentCount) messages sent, "
            + "\(deliveredCount) delivered exactly once\(pending)\(resent), HBM of \(gpuCount) GPUs consistent"
    }
}

extension Cluster {
    /// Checks, between steps: per link, chunks in = chunks out + chunks held and, with none held, bytes in =
    /// bytes out; every message delivered exactly once (when nothing is left to run, each undelivered one must
    /// be held at a down link, no chunk lost or duplicated between hops); every GPU's HBM accounting sound.
    public func checkConservation() -> ConservationReport {
        let executor = simulation.executor
        var report = ConservationReport()
        report.isQuiescent = !executor.hasRunnableJobs && !executor.hasPendingTimers
        report.linkCount = links.count
        for link in links { report.violations += check(link, quiescent: report.isQuiescent) }
        let ledger = fabric.ledger
        report.sentCount = ledger.sentCount
        report.deliveredCount = ledger.deliveredCount
        report.resentChunkCount = ledger.resentChunkCount
        report.violations += ledger.anomalies
        if ledger.anomalyCount > ledger.anomalies.count {
            report.violations.append("\(ledger.anomalyCount - ledger.anomalies.count) more broken deliveries")
        }
        let undelivered = ledger.undelivered
        report.undeliveredCount = undelivered.count
        if ledger.sentCount != ledger.deliveredCount + undelivered.count {
            report.violations.append(
                "\(ledger.sentCount) messages sent, but \(ledger.deliveredCount) delivered and "
                    + "\(undelivered.count) on their way")
        }
        if report.isQuiescent { for transfer in undelivered { report.violations += check(transfer) } }
        report.gpuCount = gpus.count
        for gpu in gpus { report.violations += simulation.inspect(gpu) { $0.hbm.invariantViolations() } }
        return report
    }

    private func check(_ link: Link, quiescent: Bool) -> [String] {
        simulation.inspect(link) { link in
            let stats = link.statistics
            let held = link.held.chunks
            var problems: [String] = []
            let dropped = link.droppedChunks
            let droppedNote = dropped > 0 ? " (and \(dropped) dropped for a resend)" : ""
            if link.chunksIn != stats.chunkCount + held + dropped {
                problems.append(
                    "link \(link.name): \(link.chunksIn) chunks in, \(stats.chunkCount) out and \(held) held"
                        + droppedNote)
            } else if held == 0 && link.bytesIn != stats.bytes + link.droppedBytes {
                problems.append(
                    "link \(link.name): \(link.bytesIn) bytes in, \(stats.bytes) bytes out" + droppedNote)
            }
            if quiescent && held > 0 && link.isUp {
                problems.append("link \(link.name) is up but holds \(held) chunk(s) with nothing left to run")
            }
            return problems
        }
    }

    /// An undelivered message with nothing left to run: each hop must hand on every chunk it serialised.
    private func check(_ transfer: Transfer) -> [String] {
        let links = transfer.route.links
        var problems: [String] = []
        if let first = links.first, transfer.acceptedChunks[0] != transfer.chunkCount {
            problems.append(
                "\(transfer.label): sent as \(transfer.chunkCount) chunks, \(first.name) received "
                    + "\(transfer.acceptedChunks[0])")
        }
        for hop in links.indices {
            let last = hop == links.count - 1
            let received = last ? transfer.arrivedChunks : transfer.acceptedChunks[hop + 1]
            let next = last ? "the destination \(transfer.destinationID)" : links[hop + 1].name
            guard transfer.startedChunks[hop] != received else { continue }
            let verb = transfer.startedChunks[hop] > received ? "lost" : "duplicated"
            problems.append(
                "\(transfer.label) (\(transfer.bytes) bytes in \(transfer.chunkCount) chunks) \(verb) "
                    + "\(abs(transfer.startedChunks[hop] - received)) chunk(s) between \(links[hop].name) "
                    + "(serialised \(transfer.startedChunks[hop])) and \(next) (received \(received))")
        }
        return problems
    }
}
