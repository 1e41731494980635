import SimCore

extension Cluster {
    /// Books `bytes` from `source` to `destination` as one bulk flow that starts at `startNs`, instead of a
    /// chunked message: each link of the route carries its booked flows first come, first served at its rate,
    /// apart from (and unseen by) its chunks. The bytes have arrived once the slowest link has carried them, plus
    /// the fill the message's last chunk would add crossing the other hops, plus the route's latencies, so an
    /// uncontended flow arrives when the same message would. Returns that instant (ns); a flow between a GPU and
    /// itself arrives at `startNs`.
    ///
    /// For the flow-level all-to-all of phantom runs (`a2a=flows`); call it from a simulated actor or process of
    /// this cluster's simulation. Flows model no faults: one whose route crosses a link that is down is refused
    /// (nothing booked), and a link going down later leaves flows already booked as they were.
    public func bookFlow(from source: GPUID, to destination: GPUID, bytes: Int, startNs: Int64) throws -> Int64 {
        try bookFlow(on: flowPath(from: source, to: destination), bytes: bytes, startNs: startNs)
    }

    /// How long `bytes` from `source` to `destination` take on an idle route (ns), as `bookFlow` gives with
    /// nothing else booked: the slowest link's time, the last chunk's fill and the latencies.
    public func flowDurationNs(from source: GPUID, to destination: GPUID, bytes: Int) throws -> Int64 {
        try flowDurationNs(on: flowPath(from: source, to: destination), bytes: bytes)
    }

    /// The path of flows from `source` to `destination`, its links looked up once for booking it many times.
    public func flowPath(from source: GPUID, to destination: GPUID) -> FlowPath {
        let standard = fabric.flowLinks(from: source.index, to: destination.index).map { first, second, third in
            FlowPath.StandardPorts(fabric: fabric, first, second, third)
        }
        return FlowPath(source: source, destination: destination, standard: standard)
    }

    /// `bookFlow(from:to:bytes:startNs:)` on a path from `flowPath`.
    public func bookFlow(on path: FlowPath, bytes: Int, startNs: Int64) throws -> Int64 {
        if let ports = path.standard, ports.fabric.downLinkCount == 0 {
            return ports.book(bytes: bytes, startNs: startNs, nowNs: simulation.executor.nowNs)
        }
        let route = try fabric.route(from: path.source, to: path.destination)
        return try fabric.bookFlow(route, bytes: bytes, startNs: startNs, nowNs: simulation.executor.nowNs)
    }

    /// `flowDurationNs(from:to:bytes:)` on a path from `flowPath`.
    public func flowDurationNs(on path: FlowPath, bytes: Int) throws -> Int64 {
        if let ports = path.standard, ports.fabric.downLinkCount == 0 { return ports.durationNs(bytes: bytes) }
        let links = try fabric.route(from: path.source, to: path.destination).links
        return (links.map { $0.flowPort.durationNs(bytes: bytes) }.max() ?? 0)
            + fabric.flowOverheadNs(bytes: bytes, links)
    }
}

/// Where bulk flows from one GPU to another go (`Cluster.flowPath`): on the standard paths (inside a node, to
/// another node on the same rail) its three links' flow ports, used while no link is down; else the route,
/// found per flow.
public struct FlowPath: Sendable {
    /// The flow ports of a standard path, with what its bookings need of the fabric.
    ///
    /// Unowned and unretained: copying a path costs no reference counting (a flow-level all-to-all books
    /// thousands per call). The fabric and its links' ports live as long as the cluster, and only holders of
    /// the cluster book on a path.
    struct StandardPorts: @unchecked Sendable {
        unowned(unsafe) let fabric: Fabric
        unowned(unsafe) let first: FlowPort
        unowned(unsafe) let second: FlowPort
        unowned(unsafe) let third: FlowPort
        /// The three links' latencies (ns).
        let latencyNs: Int64
        /// The chunking of the messages flows stand for (the fabric's spec).
        let minChunkBytes: Int
        let maxChunks: Int

        init(fabric: Fabric, _ first: Link, _ second: Link, _ third: Link) {
            self.fabric = fabric
            self.first = first.flowPort
            self.second = second.flowPort
            self.third = third.flowPort
            latencyNs = first.latency.nanoseconds + second.latency.nanoseconds + third.latency.nanoseconds
            minChunkBytes = fabric.spec.minChunkBytes
            maxChunks = fabric.spec.maxChunksPerMessage
        }

        /// Books `bytes` from `startNs` on the three ports at the simulation's time `nowNs`; returns the arrival
        /// (`Fabric.bookFlow`'s rule).
        func book(bytes: Int, startNs: Int64, nowNs: Int64) -> Int64 {
            let endNs = max(
                first.book(bytes: bytes, startNs: startNs, nowNs: nowNs),
                second.book(bytes: bytes, startNs: startNs, nowNs: nowNs),
                third.book(bytes: bytes, startNs: startNs, nowNs: nowNs))
            return endNs + overheadNs(bytes: bytes)
        }

        /// How long `bytes` take on the idle ports (ns).
        func durationNs(bytes: Int) -> Int64 {
            max(first.durationNs(bytes: bytes), second.durationNs(bytes: bytes), third.durationNs(bytes: bytes))
                + overheadNs(bytes: bytes)
        }

        /// `Fabric.flowOverheadNs` on the three ports.
        private func overheadNs(bytes: Int) -> Int64 {
            let lastChunk =
                bytes / Transfer.chunkCount(bytes: bytes, minChunkBytes: minChunkBytes, maxChunks: maxChunks)
            let firstNs = first.durationNs(bytes: lastChunk)
            let secondNs = second.durationNs(bytes: lastChunk)
            let thirdNs = third.durationNs(bytes: lastChunk)
            return firstNs + secondNs + thirdNs - max(firstNs, secondNs, thirdNs) + latencyNs
        }
    }

    /// The sending GPU.
    public let source: GPUID
    /// The receiving GPU.
    public let destination: GPUID
    /// The standard path's ports, or nil where the route decides.
    let standard: StandardPorts?
}

extension Fabric {
    /// The three links of the standard route for the paths bulk flows take (inside a node; to another node on
    /// the same rail), without building a `Route`; nil for other paths. Valid while no link is down.
    func flowLinks(from source: Int, to destination: Int) -> (Link, Link, Link)? {
        guard source != destination else { return nil }
        let rails = spec.gpusPerNode
        let (sourceNode, destinationNode) = (source / rails, destination / rails)
        if sourceNode == destinationNode { return (commOut[source], nvlinkOut[source], nvswitchOut[destination]) }
        let rail = destination % rails
        guard source % rails == rail else { return nil }
        return (commOut[source], nicOut[source], leafDown[rail * spec.nodeCount + destinationNode])
    }

    /// Books `bytes` on every link of `route` from `startNs` at the simulation's time `nowNs` (see
    /// `Cluster.bookFlow`); returns the arrival (ns). The fill is that of a message of `fillBytes` (default:
    /// `bytes`), e.g. one slice of a sliced block.
    func bookFlow(_ route: Route, bytes: Int, startNs: Int64, nowNs: Int64, fillBytes: Int? = nil) throws -> Int64 {
        // Refused before anything is booked, so a refused flow leaves no bytes behind.
        if downLinkCount > 0, let down = route.links.first(where: { link in !link.enter { $0.isUp } }) {
            throw HardwareError.invalidParameter(
                name: "flow \(route.source)->\(route.destination)", value: down.name,
                reason: "the link is down and bulk flows model no faults (use chunked messages)")
        }
        var arrivalNs = startNs
        for link in route.links {
            arrivalNs = max(arrivalNs, link.flowPort.book(bytes: bytes, startNs: startNs, nowNs: nowNs))
        }
        return route.links.isEmpty ? startNs : arrivalNs + flowOverheadNs(bytes: fillBytes ?? bytes, route.links)
    }

    /// What a flow of `bytes` adds after its slowest link: the store-and-forward fill of the message's last chunk
    /// (its time on every hop but the slowest) and every hop's latency.
    func flowOverheadNs(bytes: Int, _ links: [Link]) -> Int64 {
        let lastChunk =
            bytes
            / Transfer.chunkCount(
                bytes: bytes, minChunkBytes: spec.minChunkBytes, maxChunks: spec.maxChunksPerMessage)
        var sumNs: Int64 = 0
        var slowestNs: Int64 = 0
        var latencyNs: Int64 = 0
        for link in links {
            let chunkNs = link.flowPort.durationNs(bytes: lastChunk)
            sumNs += chunkNs
            slowestNs = max(slowestNs, chunkNs)
            latencyNs += link.latency.nanoseconds
        }
        return sumNs - slowestNs + latencyNs
    }
}
