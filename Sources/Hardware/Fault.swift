import SimCore

/// Something wrong with one part of a cluster, as an operator would inject it to ask "what if".
public enum Fault: Sendable, Equatable, CustomStringConvertible {
    /// The link starts no chunk: messages routed over it take a detour when the topology has one, else wait.
    case linkDown(link: String)
    /// The link runs at `fraction` (0 < fraction ≤ 1) of its bandwidth.
    case linkDegraded(link: String, fraction: Double)
    /// A straggler: the GPU's kernels take `factor` times longer and its comm SMs push `factor` times slower.
    case gpuSlow(gpu: Int, factor: Double)

    /// The slowest a GPU may be made.
    public static let maxSlowdown = 1000.0

    public var description: String {
        switch self {
        case .linkDown(let link): "link \(link) down"
        case .linkDegraded(let link, let fraction): "link \(link) at \(Self.percent(fraction)) of its bandwidth"
        case .gpuSlow(let gpu, let factor): "gpu\(gpu) \(Self.number(factor))x slower"
        }
    }

    /// The link the fault is on, if any.
    public var linkName: String? {
        switch self {
        case .linkDown(let link), .linkDegraded(let link, _): link
        case .gpuSlow: nil
        }
    }

    static func percent(_ fraction: Double) -> String { number(fraction * 100) + "%" }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A fault injected into a cluster, with the window it is active in.
public struct FaultRecord: Sendable, Equatable, CustomStringConvertible {
    /// Numbers faults in injection order, from 1.
    public let id: Int
    public let fault: Fault
    /// When it takes effect.
    public let start: SimInstant
    /// When it ends by itself; nil: it lasts until cleared.
    public let end: SimInstant?
    /// Whether it is in effect now.
    public internal(set) var isActive = false
    /// Whether its window is over.
    public internal(set) var hasEnded = false

    public var description: String {
        let window = "from \(start)" + (end.map { " until \($0)" } ?? "")
        return "#\(id) \(fault) \(window) [" + (isActive ? "active" : hasEnded ? "ended" : "pending") + "]"
    }
}
