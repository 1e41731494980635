import DequeModule

/// Items that become ready at given instants, kept in ready order, plus the bookkeeping for the one process
/// that waits for them (each actor with a timed queue runs at most one live process at a time).
///
/// Insertions usually come in ready order; one that comes earlier than the instant the process is idly
/// sleeping until asks for a new process, and the old one finds its token outdated when it wakes and leaves.
struct TimedQueue<Item> {
    private var items = Deque<(readyAtNs: Int64, item: Item)>()
    private var token = 0
    private var isRunning = false
    /// While the process sleeps only to wait for the first item: the instant it will wake.
    private var idleWakeNs: Int64?

    var isEmpty: Bool { items.isEmpty }
    /// When the earliest item becomes ready.
    var firstReadyNs: Int64? { items.first?.readyAtNs }

    /// Adds `item`, ready at `readyAtNs`. Returns the token of a process to start, or nil when the running one
    /// will see the item in time.
    mutating func insert(_ item: Item, readyAtNs: Int64) -> Int? {
        var index = items.count
        while index > 0 && items[index - 1].readyAtNs > readyAtNs { index -= 1 }
        items.insert((readyAtNs, item), at: index)
        if isRunning, idleWakeNs.map({ readyAtNs >= $0 }) ?? true { return nil }
        isRunning = true
        idleWakeNs = nil
        token += 1
        return token
    }

    /// The earliest item if it is ready at `nowNs`.
    mutating func popReady(nowNs: Int64) -> Item? {
        guard let first = items.first, first.readyAtNs <= nowNs else { return nil }
        items.removeFirst()
        return first.item
    }

    /// Removes the items `matching` says so; returns how many.
    mutating func removeAll(where matching: (Item) -> Bool) -> Int {
        let before = items.count
        items.removeAll { matching($0.item) }
        return before - items.count
    }

    /// The items not yet popped, in ready order.
    var pendingItems: [Item] { items.map(\.item) }

    /// Returns the token of a new process to start when none is running (e.g. after the owner paused).
    mutating func restartIfStopped() -> Int? {
        guard !isRunning else { return nil }
        isRunning = true
        idleWakeNs = nil
        token += 1
        return token
    }

    /// Whether the process holding `token` is still the live one.
    func isLive(_ token: Int) -> Bool { token == self.token }

    /// Notes that the live process sleeps until `wakeNs` only to wait for items (nil: it is busy again).
    mutating func noteIdleSleep(until wakeNs: Int64?) { idleWakeNs = wakeNs }

    /// Notes that the live process has ended.
    mutating func noteStopped() {
        isRunning = false
        idleWakeNs = nil
    }
}
