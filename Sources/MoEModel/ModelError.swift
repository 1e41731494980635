/// Why the model refused a config, a batch or a parameter set.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(String)
    case invalidBatch(String)
    case unknownParameter(String)
    case duplicateParameter(String)
    case unsupported(String)
    /// Two parameter sets compared entry by entry do not hold the same names and sizes in the same order.
    case mismatchedParameters(String)

    public var description: String {
        switch self {
        case .invalidConfig(let detail): "invalid config: \(detail)"
        case .invalidBatch(let detail): "invalid batch: \(detail)"
        case .unknownParameter(let name): "unknown parameter \"\(name)\""
        case .duplicateParameter(let name): "duplicate parameter \"\(name)\""
        case .unsupported(let detail): "unsupported: \(detail)"
        case .mismatchedParameters(let detail): "parameter sets differ: \(detail)"
        }
    }
}
