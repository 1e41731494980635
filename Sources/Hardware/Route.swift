/// The links one message crosses from its source GPU to its destination, in order.
public struct Route: Sendable, CustomStringConvertible {
    /// Which part of the fabric the message takes.
    public enum Kind: String, Sendable {
        /// Source and destination are the same GPU: nothing crosses a wire.
        case local
        /// Same node: NVLink into the NVSwitch and out to the destination.
        case nvlink
        /// Other node, same rail: NIC, rail leaf, destination NIC.
        case sameRail
        /// Other node, other rail: NIC, source rail leaf, spine, destination rail leaf, NIC.
        case spine
        /// Other node, other rail, PXN-style: NVLink to the same-rail GPU of the source node, then its NIC.
        case pxn
        /// Around a link that is down: the shortest path the topology still has (see `Fabric.detour`).
        case detour
    }

    public let source: GPUID
    public let destination: GPUID
    public let kind: Kind
    /// The egress links in the order the message crosses them (empty for `local`).
    public let links: [Link]

    /// Link names in order, e.g. `["gpu0.comm.out", "gpu0.nvlink.out", "node0.nvswitch.port3.out"]`.
    public var linkNames: [String] { links.map(\.name) }

    /// `gpu0 -> gpu0.comm.out -> gpu0.nvlink.out -> node0.nvswitch.port3.out -> gpu3 (nvlink)`.
    public var description: String {
        // Built as UTF-8 bytes (sends record it): the same text as joining the names with " -> ".
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 * (links.count + 2))
        func append(_ text: String) {
            var text = text
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }
        append(source.description)
        for link in links {
            append(" -> ")
            append(link.name)
        }
        append(" -> ")
        append(destination.description)
        append(" (")
        append(kind.rawValue)
        append(")")
        return String(decoding: bytes, as: UTF8.self)
    }
}
