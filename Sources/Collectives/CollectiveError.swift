/// Why a collective or communicator was refused; each case names the offending value.
public enum CollectiveError: Error, Equatable, CustomStringConvertible {
    /// A size, count, rank or option outside what the operation accepts.
    case invalidArgument(name: String, value: String, reason: String)
    /// A GPU index that is not a rank of the communicator.
    case notInCommunicator(gpu: Int, ranks: [Int])
    /// The algorithm cannot run this collective.
    case unsupportedAlgorithm(kind: String, algorithm: String, reason: String)
    /// The simulation did not finish the collective.
    case simulationStopped(reason: String)

    public var description: String {
        switch self {
        case .invalidArgument(let name, let value, let reason):
            "invalid \(name) \(value): \(reason)"
        case .notInCommunicator(let gpu, let ranks):
            "gpu\(gpu) is not in the communicator of GPUs \(ranks)"
        case .unsupportedAlgorithm(let kind, let algorithm, let reason):
            "\(kind) cannot run with algorithm \(algorithm): \(reason)"
        case .simulationStopped(let reason):
            "the collective did not finish: the simulation stopped with \(reason)"
        }
    }

    /// Throws `invalidArgument` unless `condition` holds; the message is built only then.
    static func require<Value: CustomStringConvertible>(
        _ condition: Bool, _ name: @autoclosure () -> String, _ value: @autoclosure () -> Value,
        _ reason: @autoclosure () -> String
    ) throws {
        guard condition else {
            throw CollectiveError.invalidArgument(name: name(), value: "\(value())", reason: reason())
        }
    }
}
