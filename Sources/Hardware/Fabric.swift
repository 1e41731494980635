import SimCore

/// The wiring of a cluster: every link, grouped by kind, and the routing rules between GPUs.
///
/// Immutable once built except for the GPU table, which the cluster fills in once before anything runs, the
/// message ledger and the fault state (how many links are down, and the detours found around them), all
/// confined to the simulation's executor. GPUs are held weakly so that GPU → fabric → GPU is no retain cycle;
/// the `Cluster` keeps them alive.
final class Fabric: @unchecked Sendable {
    let spec: ClusterSpec
    let spineCount: Int
    /// Per GPU: its comm partition's egress, which caps what its SMs can push.
    let commOut: [Link]
    /// Per GPU: NVLink into the node's NVSwitch.
    let nvlinkOut: [Link]
    /// Per GPU: its NIC to the rail's leaf.
    let nicOut: [Link]
    /// Per node and local index: NVSwitch port to that GPU.
    let nvswitchOut: [Link]
    /// Per rail and node: leaf port to that node's NIC on the rail.
    let leafDown: [Link]
    /// Per rail and spine: leaf port to the spine.
    let leafUp: [Link]
    /// Per spine and rail: spine port to the rail's leaf.
    let spineDown: [Link]
    private var gpus: [WeakGPU] = []
    /// Every message sent over this fabric, for the conservation checks.
    let ledger = MessageLedger()
    /// Links a fault holds down now; routing looks for detours only while this is above zero.
    private(set) var downLinkCount = 0
    /// Detours found since the last change of a link's state, by `source * gpuCount + destination`.
    private var detours: [Int: Route] = [:]  // lookup only, never iterated

    private struct WeakGPU {
        weak var gpu: GPU?
    }

    init(spec: ClusterSpec, in simulation: Simulation) {
        self.spec = spec
        spineCount = spec.effectiveSpineCount
        let gpu = spec.gpu
        let rails = spec.gpusPerNode
        let gpuIndices = 0..<spec.gpuCount
        func link(_ owner: String, _ port: String, _ bytesPerSecond: Double, _ latency: SimDuration) -> Link {
            Link(owner: owner, port: port, bytesPerSecond: bytesPerSecond, latency: latency, in: simulation)
        }
        commOut = gpuIndices.map {
            link("gpu\($0)", "comm.out", Double(spec.commSMCount) * gpu.bytesPerSecondPerSM, .zero)
        }
        nvlinkOut = gpuIndices.map { link("gpu\($0)", "nvlink.out", gpu.nvlinkBytesPerSecond, spec.nvlinkHopLatency) }
        nicOut = gpuIndices.map { link("gpu\($0).nic", "out", gpu.nicBytesPerSecond, spec.nicHopLatency) }
        nvswitchOut = gpuIndices.map {
            link("node\($0 / rails).nvswitch", "port\($0 % rails).out", gpu.nvlinkBytesPerSecond, spec.nvlinkHopLatency)
        }
        let nodes = spec.nodeCount
        let spines = spineCount
        let spineRate = spec.effectiveSpineLinkBytesPerSecond
        leafDown = (0..<(rails * nodes)).map {
            link("leaf\($0 / nodes)", "down\($0 % nodes)", gpu.nicBytesPerSecond, spec.nicHopLatency)
        }
        leafUp = (0..<(rails * spines)).map {
            link("leaf\($0 / spines)", "up\($0 % spines)", spineRate, spec.spineHopLatency)
        }
        spineDown = (0..<(spines * rails)).map {
            link("spine\($0 / rails)", "down\($0 % rails)", spineRate, spec.spineHopLatency)
        }
    }

    /// Records the cluster's GPUs, indexed by `GPUID.index`; called once while building.
    func register(_ gpus: [GPU]) { self.gpus = gpus.map { WeakGPU(gpu: $0) } }

    /// The GPU with `id`.
    func gpu(_ id: GPUID) throws -> GPU {
        guard gpus.indices.contains(id.index), let gpu = gpus[id.index].gpu else {
            throw HardwareError.unknownGPU(index: id.index, gpuCount: gpus.count)
        }
        return gpu
    }

    /// The node a GPU sits in.
    func node(of id: GPUID) -> Int { id.index / spec.gpusPerNode }
    /// The GPU's index in its node, which is also its rail.
    func rail(of id: GPUID) -> Int { id.index % spec.gpusPerNode }

    /// Takes `link` down or brings it back up; routes chosen from now on avoid the links that are down.
    func setLink(_ link: Link, up: Bool) {
        let wasUp = link.assumeIsolated { $0.isUp }
        guard wasUp != up else { return }
        downLinkCount += up ? -1 : 1
        detours.removeAll()
        link.assumeIsolated { $0.setUp(up) }
        if !up { resendAround(link) }
    }

    /// The path from `source` to `destination`: the cluster's routing rule, or while that crosses a down link
    /// the shortest detour the topology has (see `detour`), or when there is none the rule's path, whose
    /// messages then wait at the down link.
    func route(from source: GPUID, to destination: GPUID) throws -> Route {
        let standard = try standardRoute(from: source, to: destination)
        guard downLinkCount > 0, !Self.isUp(standard.links) else { return standard }
        let key = source.index * spec.gpuCount + destination.index
        if let known = detours[key] { return known }
        let found = detour(from: source, to: destination) ?? standard
        detours[key] = found
        return found
    }

    static func isUp(_ links: [Link]) -> Bool { links.allSatisfy { link in link.assumeIsolated { $0.isUp } } }

    /// The path the routing rule gives, whatever the links' state.
    func standardRoute(from source: GPUID, to destination: GPUID) throws -> Route {
        for id in [source, destination] where !(0..<spec.gpuCount).contains(id.index) {
            throw HardwareError.unknownGPU(index: id.index, gpuCount: spec.gpuCount)
        }
        let (srcNode, srcRail) = (node(of: source), rail(of: source))
        let (dstNode, dstRail) = (node(of: destination), rail(of: destination))
        let rails = spec.gpusPerNode
        let first = commOut[source.index]
        func make(_ kind: Route.Kind, _ links: [Link]) -> Route {
            Route(source: source, destination: destination, kind: kind, links: links)
        }
        if source == destination { return make(.local, []) }
        if srcNode == dstNode {
            return make(.nvlink, [first, nvlinkOut[source.index], nvswitchOut[destination.index]])
        }
        let arrival = leafDown[dstRail * spec.nodeCount + dstNode]
        if srcRail == dstRail { return make(.sameRail, [first, nicOut[source.index], arrival]) }
        switch spec.crossRailRouting {
        case .pxn:
            let proxy = srcNode * rails + dstRail
            return make(.pxn, [first, nvlinkOut[source.index], nvswitchOut[proxy], nicOut[proxy], arrival])
        case .spine:
            // Destination-mod-k: the spine depends only on the destination node, as in d-mod-k fat-tree routing.
            let spine = dstNode % spineCount
            return make(
                .spine,
                [
                    first, nicOut[source.index], leafUp[srcRail * spineCount + spine],
                    spineDown[spine * rails + dstRail],
                    arrival,
                ])
        }
    }
}
