import Hardware

/// Named clusters for `cluster preset=NAME`.
enum ClusterPreset: String, CaseIterable {
    case h800Node = "h800-node"
    case h100Node = "h100-node"
    case h200Node = "h200-node"
    case twoNodes = "2-nodes"
    case eightNodes = "8-nodes"
    case deepSeekV3 = "dsv3"
    case deepSeekV3Mini = "dsv3-mini"

    /// The cluster spec the preset stands for.
    var spec: ClusterSpec {
        switch self {
        case .h800Node: ClusterSpec(gpu: .h800, nodeCount: 1)
        case .h100Node: ClusterSpec(gpu: .h100, nodeCount: 1)
        case .h200Node: ClusterSpec(gpu: .h200, nodeCount: 1)
        case .twoNodes: ClusterSpec(gpu: .h800, nodeCount: 2)
        case .eightNodes: ClusterSpec(gpu: .h800, nodeCount: 8)
        case .deepSeekV3: Cluster.deepSeekV3Spec
        case .deepSeekV3Mini: ClusterSpec(gpu: .h800, nodeCount: 16)
        }
    }

    /// One line for help.
    var summary: String {
        switch self {
        case .h800Node: "one node of 8 H800 on an NVSwitch (the default)"
        case .h100Node: "one node of 8 H100"
        case .h200Node: "one node of 8 H200"
        case .twoNodes: "2 nodes of 8 H800, rail-optimised IB"
        case .eightNodes: "8 nodes of 8 H800, rail-optimised IB"
        case .deepSeekV3: "DeepSeek-V3's 256 nodes of 8 H800 (2048 GPUs)"
        case .deepSeekV3Mini: "16 nodes of 8 H800 (128 GPUs) for the dsv3-mini layout PP4 × EP16 × DP_replica 2"
        }
    }
}
