import DequeModule

/// An unbounded channel between simulated tasks: `send` never blocks, `receive` suspends until a message is
/// there, and messages are received in the order they were sent.
public actor Mailbox<Message: Sendable>: SimulatedActor {
    public nonisolated let simulation: Simulation
    /// Shown in deadlock reports.
    public nonisolated let name: String
    private var messages = Deque<Message>()
    private var receivers = WaiterQueue<Message>()

    /// A mailbox on `simulation`, named for deadlock reports.
    public init(_ name: String, in simulation: Simulation) {
        self.name = name
        self.simulation = simulation
    }

    /// Messages sent and not yet received.
    public var pendingCount: Int { messages.count }

    /// Delivers `message` to the longest-waiting receiver, or queues it.
    public func send(_ message: Message) {
        if !receivers.resumeFirst(returning: message, in: simulation) { messages.append(message) }
    }

    /// The oldest message, waiting for one if none is queued.
    public func receive() async -> Message {
        if let message = messages.popFirst() { return message }
        return await withUnsafeContinuation { receivers.append($0, in: simulation, waitingOn: self) }
    }
}

extension Mailbox: WaitDescribing {
    /// `mailbox 'NAME'`, for the deadlock report.
    public nonisolated func waitDescription(_ first: Int, _ second: Int) -> String { "mailbox '\(name)'" }
}
