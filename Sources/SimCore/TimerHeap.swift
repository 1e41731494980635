/// A parked sleeper: the continuation to resume at `deadlineNs`, ordered by (deadline, sequence).
struct Timer {
    var deadlineNs: Int64
    var sequence: UInt64
    /// The sleeping task's job; `nil` once the sleep was cancelled (the entry is then dropped without
    /// advancing time).
    var job: UnownedJob?

    @inline(__always)
    func precedes(_ other: Timer) -> Bool {
        deadlineNs != other.deadlineNs ? deadlineNs < other.deadlineNs : sequence < other.sequence
    }
}

/// A binary min-heap of timers keyed by (deadline, sequence), so equal deadlines fire in scheduling order.
struct TimerHeap {
    private(set) var entries: [Timer] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var first: Timer? { entries.first }

    mutating func insert(_ timer: Timer) {
        entries.append(timer)
        entries.withUnsafeMutableBufferPointer { Self.place(timer, risingFrom: $0.count - 1, in: $0) }
    }

    mutating func removeFirst() -> Timer {
        let top = entries[0]
        let last = entries.removeLast()
        if !entries.isEmpty { refill(rootWith: last) }
        return top
    }

    /// Takes the job of the timer with `sequence` out of the heap (a linear scan: cancellation is rare).
    mutating func takeJob(sequence: UInt64) -> UnownedJob? {
        guard let index = entries.firstIndex(where: { $0.sequence == sequence }) else { return nil }
        let job = entries[index].job
        entries[index].job = nil
        return job
    }

    /// Fills the empty root with `moving` (Floyd's method): walks the hole down along the earlier child to a
    /// leaf, one comparison per level, then lets `moving` rise from there (usually a step or none).
    private mutating func refill(rootWith moving: Timer) {
        entries.withUnsafeMutableBufferPointer { heap in
            var hole = 0
            var child = 1
            while child < heap.count {
                if child + 1 < heap.count && heap[child + 1].precedes(heap[child]) { child += 1 }
                heap[hole] = heap[child]
                hole = child
                child = 2 * hole + 1
            }
            Self.place(moving, risingFrom: hole, in: heap)
        }
    }

    /// Puts `moving` into the hole at `start` after moving every ancestor it precedes one level down.
    private static func place(_ moving: Timer, risingFrom start: Int, in heap: UnsafeMutableBufferPointer<Timer>) {
        var hole = start
        while hole > 0 {
            let parent = (hole - 1) / 2
            guard moving.precedes(heap[parent]) else { break }
            heap[hole] = heap[parent]
            hole = parent
        }
        heap[hole] = moving
    }
}
