/// A one-shot signal: `wait` suspends until `open` is called once; after that it returns at once.
public actor Latch: SimulatedActor {
    public nonisolated let simulation: Simulation
    /// Shown in deadlock reports.
    public nonisolated let name: String
    /// Whether `open` has been called.
    public private(set) var isOpen = false
    private var waiters = WaiterQueue<Void>()

    /// A closed latch on `simulation`, named for deadlock reports.
    public init(_ name: String, in simulation: Simulation) {
        self.name = name
        self.simulation = simulation
    }

    /// Opens the latch and wakes every waiter in arrival order; opening twice does nothing more.
    public func open() {
        isOpen = true
        while waiters.resumeFirst(returning: (), in: simulation) {}
    }

    /// Returns once the latch is open.
    public func wait() async {
        if isOpen { return }
        await withUnsafeContinuation { waiters.append($0, in: simulation, waitingOn: self) }
    }
}

extension Latch: WaitDescribing {
    /// `latch 'NAME'`, for the deadlock report.
    public nonisolated func waitDescription(_ first: Int, _ second: Int) -> String { "latch '\(name)'" }
}
