import SimCore

/// The baseline: the all-to-all workload as a single-threaded loop over a binary heap of plain struct events.
struct PlainEventLoop {
    private struct Event {
        var timeNs: Int64
        var sequence: UInt64
        var sender: Int32
        var message: Int32

        func precedes(_ other: Event) -> Bool {
            timeNs != other.timeNs ? timeNs < other.timeNs : sequence < other.sequence
        }
    }

    let workload: AllToAllWorkload
    private var heap: [Event] = []
    private var nextSequence: UInt64 = 0

    init(workload: AllToAllWorkload) { self.workload = workload }

    /// Runs every delivery and returns (events, timeline checksum).
    mutating func run() -> (events: Int, checksum: UInt64) {
        var checksums = [UInt64](repeating: 0, count: workload.nodeCount)
        for sender in 0..<workload.nodeCount where workload.nodeCount > 1 { schedule(sender: sender, message: 1) }
        var events = 0
        while !heap.isEmpty {
            let event = popFirst()
            let receiver = workload.destination(of: Int(event.sender), message: Int(event.message))
            checksums[receiver] = AllToAllWorkload.fold(
                checksums[receiver], timeNs: event.timeNs, sender: Int(event.sender))
            events += 1
            if Int(event.message) + 1 < workload.nodeCount {
                schedule(sender: Int(event.sender), message: Int(event.message) + 1)
            }
        }
        return (events, AllToAllWorkload.combine(checksums))
    }

    private mutating func schedule(sender: Int, message: Int) {
        let event = Event(
            timeNs: workload.arrivalNs(of: sender, message: message), sequence: nextSequence,
            sender: Int32(sender), message: Int32(message))
        nextSequence += 1
        heap.append(event)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() -> Event {
        let top = heap[0]
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            var child = 2 * parent + 1
            if child >= heap.count { break }
            if child + 1 < heap.count && heap[child + 1].precedes(heap[child]) { child += 1 }
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            parent = child
        }
        return top
    }
}
