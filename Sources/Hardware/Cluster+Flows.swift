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
        if let (first, second, third) = fabric.flowLinks(from: source.index, to: destination.index) {
            let endNs = max(
                first.flowPort.book(bytes: bytes, startNs: startNs),
                second.flowPort.book(bytes: bytes, startNs: startNs),
                third.flowPort.book(bytes: bytes, startNs: startNs))
            return endNs + fabric.flowOverheadNs(bytes: bytes, first, second, third)
        }
        return try fabric.bookFlow(try fabric.route(from: source, to: destination), bytes: bytes, startNs: startNs)
    }

    /// How long `bytes` from `source` to `destination` take on an idle route (ns), as `bookFlow` gives with
    /// nothing else booked: the slowest link's time, the last chunk's fill and the latencies.
    public func flowDurationNs(from source: GPUID, to destination: GPUID, bytes: Int) throws -> Int64 {
        if let (first, second, third) = fabric.flowLinks(from: source.index, to: destination.index) {
            let slowestNs = max(
                first.flowPort.durationNs(bytes: bytes), second.flowPort.durationNs(bytes: bytes),
                third.flowPort.durationNs(bytes: bytes))
            return slowestNs + fabric.flowOverheadNs(bytes: bytes, first, second, third)
        }
        let links = try fabric.route(from: source, to: destination).links
        return (links.map { $0.flowPort.durationNs(bytes: bytes) }.max() ?? 0)
            + fabric.flowOverheadNs(bytes: bytes, links)
    }
}

extension Fabric {
    /// The three links of the standard route for the paths bulk flows take (inside a node; to another node on
    /// the same rail), without building a `Route`; nil for other paths and while any link is down.
    func flowLinks(from source: Int, to destination: Int) -> (Link, Link, Link)? {
        guard downLinkCount == 0, source != destination else { return nil }
        let rails = spec.gpusPerNode
        let (sourceNode, destinationNode) = (source / rails, destination / rails)
        if sourceNode == destinationNode { return (commOut[source], nvlinkOut[source], nvswitchOut[destination]) }
        let rail = destination % rails
        guard source % rails == rail else { return nil }
        return (commOut[source], nicOut[source], leafDown[rail * spec.nodeCount + destinationNode])
    }

    /// Books `bytes` on every link of `route` from `startNs` (see `Cluster.bookFlow`); returns the arrival (ns).
    /// The fill is that of a message of `fillBytes` (default: `bytes`), e.g. one slice of a sliced block.
    func bookFlow(_ route: Route, bytes: Int, startNs: Int64, fillBytes: Int? = nil) throws -> Int64 {
        // Refused before anything is booked, so a refused flow leaves no bytes behind.
        if downLinkCount > 0, let down = route.links.first(where: { link in !link.enter { $0.isUp } }) {
            throw HardwareError.invalidParameter(
                name: "flow \(route.source)->\(route.destination)", value: down.name,
                reason: "the link is down and bulk flows model no faults (use chunked messages)")
        }
        var arrivalNs = startNs
        for link in route.links { arrivalNs = max(arrivalNs, link.flowPort.book(bytes: bytes, startNs: startNs)) }
        return route.links.isEmpty ? startNs : arrivalNs + flowOverheadNs(bytes: fillBytes ?? bytes, route.links)
    }

    /// What a flow of `bytes` adds after its slowest link: the store-and-forward fill of the message's last chunk
    /// (its time on every hop but the slowest) and every hop's latency.
    func flowOverheadNs(bytes: Int, _ links: Link...) -> Int64 { flowOverheadNs(bytes: bytes, links) }

    func flowOverheadNs(bytes: Int, _ links: [Link]) -> Int64 {
        let chunks = Transfer.chunkCount(
            bytes: bytes, minChunkBytes: spec.minChunkBytes, maxChunks: spec.maxChunksPerMessage)
        let lastChunk = bytes / chunks
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
