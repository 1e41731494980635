/// A parked sleeper: the continuation to resume at `deadlineNs`, ordered by (deadline, sequence).
struct Timer {
    var deadlineNs: Int64
    var sequence: UInt64
    /// `nil` once the sleep was cancelled; the entry is then dropped without advancing time.
    var continuation: UnsafeContinuation<Void, Never>?

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
        siftUp(from: entries.count - 1)
    }

    mutating func removeFirst() -> Timer {
        let top = entries[0]
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(from: 0)
        }
        return top
    }

    /// Takes the continuation of the timer with `sequence` out of the heap (a linear scan: cancellation is rare).
    mutating func takeContinuation(sequence: UInt64) -> UnsafeContinuation<Void, Never>? {
        guard let index = entries.firstIndex(where: { $0.sequence == sequence }) else { return nil }
        let continuation = entries[index].continuation
        entries[index].continuation = nil
        return continuation
    }

    private mutating func siftUp(from start: Int) {
        entries.withUnsafeMutableBufferPointer { heap in
            var child = start
            let moving = heap[child]
            while child > 0 {
                let parent = (child - 1) / 2
                guard moving.precedes(heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = moving
        }
    }

    private mutating func siftDown(from start: Int) {
        entries.withUnsafeMutableBufferPointer { heap in
            var parent = start
            let moving = heap[parent]
            let count = heap.count
            while true {
                var child = 2 * parent + 1
                if child >= count { break }
                if child + 1 < count && heap[child + 1].precedes(heap[child]) { child += 1 }
                guard heap[child].precedes(moving) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = moving
        }
    }
}
