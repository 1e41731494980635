/// A parallel layout that cannot be placed: names the offending value.
public enum LayoutError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `name` = `value` is not allowed, because `reason`.
    case invalid(name: String, value: Int, reason: String)

    public var description: String {
        switch self {
        case .invalid(let name, let value, let reason): "\(name)=\(value): \(reason)"
        }
    }
}
