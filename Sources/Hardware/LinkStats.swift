import SimCore

/// What a link has carried: bytes, chunks, busy time, and its busy intervals for utilisation over any window.
///
/// The last busy period is held inline and only closed into the list when a gap ends it: most work on a busy
/// link comes back to back, and extending the open period then touches no array (a V3 step makes ~400 M
/// flow-port bookings, nearly all of them merges).
public struct LinkStats: Sendable, Equatable {
    /// Bytes serialised so far.
    public private(set) var bytes = 0
    /// Chunks serialised so far.
    public private(set) var chunkCount = 0
    /// Total time spent serialising.
    public private(set) var busyTime = SimDuration.zero
    /// Busy periods before the open one, in time order: (start, end) in ns.
    private var closed: [(startNs: Int64, endNs: Int64)] = []
    /// The last busy period (ns); none while `openEndNs == openStartNs`.
    private var openStartNs: Int64 = 0
    private var openEndNs: Int64 = 0

    /// The statistics of a link that has carried nothing.
    public init() {}

    public static func == (lhs: LinkStats, rhs: LinkStats) -> Bool {
        lhs.bytes == rhs.bytes && lhs.chunkCount == rhs.chunkCount && lhs.busyTime == rhs.busyTime
            && lhs.openStartNs == rhs.openStartNs && lhs.openEndNs == rhs.openEndNs
            && lhs.closed.elementsEqual(rhs.closed, by: { $0 == $1 })
    }

    /// Counts a chunk or flow of `bytes` serialised from `startNs` to `endNs` (no earlier than the last one's end).
    mutating func add(bytes: Int, startNs: Int64, endNs: Int64) {
        self.bytes += bytes
        chunkCount += 1
        busyTime = busyTime + .nanoseconds(endNs - startNs)
        if openEndNs == startNs {
            // Back to back (or the first period starting at 0): the open period grows.
            openEndNs = endNs
        } else if endNs > startNs {
            if openEndNs > openStartNs { closed.append((openStartNs, openEndNs)) }
            (openStartNs, openEndNs) = (startNs, endNs)
        }
    }

    /// The end of the last busy period, or the start of time when the link never worked.
    public var lastBusyEnd: SimInstant { SimInstant(nanosecondsSinceStart: openEndNs) }

    /// The fraction of `start..<end` the link spent serialising (0 for an empty window).
    public func utilisation(from start: SimInstant, to end: SimInstant) -> Double {
        let from = start.nanosecondsSinceStart
        let to = end.nanosecondsSinceStart
        guard to > from else { return 0 }
        var low = 0
        var high = closed.count
        while low < high {
            let middle = (low + high) / 2
            if closed[middle].endNs <= from { low = middle + 1 } else { high = middle }
        }
        var busyNs = overlapNs(openStartNs, openEndNs, from, to)
        for interval in closed[low...] {
            if interval.startNs >= to { break }
            busyNs += overlapNs(interval.startNs, interval.endNs, from, to)
        }
        return Double(busyNs) / Double(to - from)
    }

    /// The part of the period `startNs..<endNs` inside the window `from..<to` (ns).
    private func overlapNs(_ startNs: Int64, _ endNs: Int64, _ from: Int64, _ to: Int64) -> Int64 {
        max(0, min(endNs, to) - max(startNs, from))
    }
}
