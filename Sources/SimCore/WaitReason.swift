/// What a blocked process waits on, put into words only when a report lists it (waits are noted on every
/// receive, reports are rare).
public enum WaitReason: Sendable {
    /// Words built by the caller.
    case text(String)
    /// Words `object` builds from the two numbers given when the wait was noted.
    case described(any WaitDescribing, Int, Int)

    /// The words for the report.
    public var text: String {
        switch self {
        case .text(let text): text
        case .described(let object, let first, let second): object.waitDescription(first, second)
        }
    }
}

/// Something a process can wait on that describes the wait itself when a report asks.
public protocol WaitDescribing: AnyObject, Sendable {
    /// The words for a wait noted with `first` and `second` (their meaning is the conformer's).
    func waitDescription(_ first: Int, _ second: Int) -> String
}
