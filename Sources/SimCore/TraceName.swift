import Synchronization

/// Hands out the slots of `TraceName`s (any order: a slot only caches, it never reaches the trace).
private let traceNameSlots = Atomic<Int>(0)

/// A span, instant or argument name that hot paths record again and again: each recorder interns its text on
/// first use, exactly as a `String` name would be (same string table, same hash), and afterwards finds the
/// index in an array slot instead of a dictionary.
///
/// Declare each one once as a `static let`: every instance takes a new slot in every recorder that sees it.
public struct TraceName: Sendable {
    /// The name as it appears in the trace.
    public let text: String
    let slot: Int

    /// A name whose recorder index is cached in a slot of its own.
    public init(_ text: String) {
        self.text = text
        slot = traceNameSlots.add(1, ordering: .relaxed).oldValue
    }
}
