import SimCore

/// A built cluster: its GPUs, NVSwitches, NICs and IB switches, every link by stable name, and routing.
///
/// Keep the cluster alive while its GPUs are used: GPUs find each other through it.
public final class Cluster: Sendable {
    public let simulation: Simulation
    public let spec: ClusterSpec
    /// GPUs by global index, node-major (`gpus[9]` is `gpu9`, GPU 1 of node 1 with 8 per node).
    public let gpus: [GPU]
    /// One per node (`node1.nvswitch`).
    public let nvswitches: [NVSwitch]
    /// One per GPU (`gpu9.nic`).
    public let nics: [NIC]
    /// One per rail (`leaf3`): GPU i of every node hangs off leaf i.
    public let leaves: [IBSwitch]
    /// The spine tier (`spine2`).
    public let spines: [IBSwitch]
    /// Every link in a fixed order: per GPU `comm.out`, `nvlink.out`, `nic.out`; NVSwitch ports by node; leaf
    /// down then up ports by rail; spine down ports by spine.
    public let links: [Link]
    let fabric: Fabric
    let faultRegistry = FaultRegistry()
    private let linkIndex: [String: Link]  // lookup only, never iterated

    /// Builds the cluster `spec` describes in `simulation`; throws naming an invalid spec field.
    public init(_ spec: ClusterSpec, in simulation: Simulation) throws {
        try spec.validate()
        self.simulation = simulation
        self.spec = spec
        let fabric = Fabric(spec: spec, in: simulation)
        self.fabric = fabric
        let gpus = (0..<spec.gpuCount).map {
            GPU(id: GPUID($0), spec: spec.gpu, commSMCount: spec.commSMCount, fabric: fabric, in: simulation)
        }
        fabric.register(gpus)
        self.gpus = gpus
        let rails = spec.gpusPerNode
        let nodes = spec.nodeCount
        let spineCount = fabric.spineCount
        nvswitches = (0..<nodes).map { node in
            NVSwitch(
                name: "node\(node).nvswitch",
                outPorts: Array(fabric.nvswitchOut[(node * rails)..<((node + 1) * rails)]),
                in: simulation)
        }
        nics = (0..<spec.gpuCount).map { NIC(name: "gpu\($0).nic", out: fabric.nicOut[$0], in: simulation) }
        leaves = (0..<rails).map { rail in
            IBSwitch(
                name: "leaf\(rail)", tier: .leaf,
                downPorts: Array(fabric.leafDown[(rail * nodes)..<((rail + 1) * nodes)]),
                upPorts: Array(fabric.leafUp[(rail * spineCount)..<((rail + 1) * spineCount)]), in: simulation)
        }
        spines = (0..<spineCount).map { spine in
            IBSwitch(
                name: "spine\(spine)", tier: .spine,
                downPorts: Array(fabric.spineDown[(spine * rails)..<((spine + 1) * rails)]), upPorts: [], in: simulation
            )
        }
        let perGPU = (0..<spec.gpuCount).flatMap { [fabric.commOut[$0], fabric.nvlinkOut[$0], fabric.nicOut[$0]] }
        links = perGPU + fabric.nvswitchOut + fabric.leafDown + fabric.leafUp + fabric.spineDown
        linkIndex = Dictionary(uniqueKeysWithValues: links.map { ($0.name, $0) })
        simulation.addDeadlockNotes { [weak self] in self?.downLinkNotes() ?? [] }
    }

    /// The GPU with global `index`.
    public func gpu(_ index: Int) throws -> GPU { try fabric.gpu(GPUID(index)) }

    /// The link called `name` (`gpu9.nic.out`, `node1.nvswitch.port3.out`, `leaf3.down7`, `spine2.down3`).
    public func link(named name: String) throws -> Link {
        guard let link = linkIndex[name] else { throw HardwareError.unknownLink(name: name) }
        return link
    }

    /// The node GPU `id` sits in.
    public func node(of id: GPUID) -> Int { fabric.node(of: id) }
    /// The GPU's index within its node, which is also its rail.
    public func rail(of id: GPUID) -> Int { fabric.rail(of: id) }

    /// The path a message from `source` to `destination` takes (print it to see every link).
    public func route(from source: GPUID, to destination: GPUID) throws -> Route {
        try fabric.route(from: source, to: destination)
    }

    // MARK: - Builders

    /// One node of 8 GPUs (`gpu` each) on an NVSwitch.
    public static func singleNode(gpu: GPUSpec = .h800, in simulation: Simulation) throws -> Cluster {
        try Cluster(ClusterSpec(gpu: gpu, nodeCount: 1), in: simulation)
    }

    /// `nodeCount` nodes of 8 GPUs on a rail-optimised fat tree: a leaf per rail, a non-blocking spine tier.
    public static func railOptimized(
        nodeCount: Int, gpu: GPUSpec = .h800, crossRailRouting: ClusterSpec.CrossRailRouting = .spine,
        in simulation: Simulation
    ) throws -> Cluster {
        var spec = ClusterSpec(gpu: gpu, nodeCount: nodeCount)
        spec.crossRailRouting = crossRailRouting
        return try Cluster(spec, in: simulation)
    }

    /// The DeepSeek-V3 training cluster: 256 nodes of 8 H800 (2048 GPUs), 20 of 132 SMs for communication.
    public static func deepSeekV3(in simulation: Simulation) throws -> Cluster {
        try Cluster(deepSeekV3Spec, in: simulation)
    }

    /// The spec `deepSeekV3(in:)` builds, to start from when overriding fields.
    public static let deepSeekV3Spec = ClusterSpec(gpu: .h800, nodeCount: 256)
}
