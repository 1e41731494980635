/// How an expert-parallel layer moves its all-to-alls (`a2a=` on `moe` and `train`).
public enum EPTransport: String, Sendable, CaseIterable {
    /// Every message, IB piece and relay as chunked tensor messages over the fabric's links.
    case messages
    /// Phantom runs only: each all-to-all as bulk flows booked on the same links (`Cluster.bookFlow`), the
    /// same bytes per link, each rank's part over when its last flow has arrived: a few events per rank instead
    /// of hundreds of messages. An approximation: flows share each link first come, first served among
    /// themselves; other traffic (pipeline sends, ZeRO collectives) shares the links with them only when it is
    /// flows too (`ClusterSpec.phantomMessagesAsFlows`), else neither sees the other.
    case flows
}
