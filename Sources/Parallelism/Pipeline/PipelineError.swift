/// Why a pipeline run refused to start or stopped.
public enum PipelineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The run's sizes do not fit: pipeline wider than the cluster, fewer layers than stages, …
    case invalidSetup(String)
    /// A worker met an op it cannot run (an input never received, a W out of FIFO order, …).
    case brokenSchedule(String)

    public var description: String {
        switch self {
        case .invalidSetup(let detail): "pipeline: \(detail)"
        case .brokenSchedule(let detail): "pipeline schedule broken: \(detail)"
        }
    }
}
