/// The bulk-flow side of one link (`Cluster.bookFlow`): flows booked on it are carried first come, first
/// served at the link's rate, apart from (and unseen by) the chunks the link serialises.
///
/// Confined to the simulation's executor like the fabric: only simulated actors and processes of the link's
/// simulation touch it, all on that one thread, so it needs no isolation of its own.
final class FlowPort: @unchecked Sendable {
    /// The link's serialisation rate now (its owner updates it when the rate or a fault changes it).
    var bytesPerSecond: Double
    /// Bytes and busy time of the flows booked so far.
    private(set) var stats = LinkStats()
    /// When the port has carried every flow booked on it so far (ns).
    private(set) var busyUntilNs: Int64 = 0

    init(bytesPerSecond: Double) { self.bytesPerSecond = bytesPerSecond }

    /// The time `bytes` occupy the port, rounded up to whole nanoseconds (as `Link.transmissionTime`).
    func durationNs(bytes: Int) -> Int64 { Int64((Double(bytes) * 1e9 / bytesPerSecond).rounded(.up)) }

    /// Books `bytes` that reach the port at `startNs`, at the simulation's time `nowNs`; returns when the port
    /// has carried them (ns).
    func book(bytes: Int, startNs: Int64, nowNs: Int64) -> Int64 {
        let beginNs = max(startNs, busyUntilNs)
        let endNs = beginNs + durationNs(bytes: bytes)
        busyUntilNs = endNs
        stats.add(bytes: bytes, startNs: beginNs, endNs: endNs, nowNs: nowNs)
        return endNs
    }
}
