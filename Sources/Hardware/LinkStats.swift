import SimCore

/// What a link has carried: bytes, chunks, busy time, and its busy intervals for utilisation over any window.
public struct LinkStats: Sendable, Equatable {
    /// Bytes serialised so far.
    public private(set) var bytes = 0
    /// Chunks serialised so far.
    public private(set) var chunkCount = 0
    /// Total time spent serialising.
    public private(set) var busyTime = SimDuration.zero
    /// Busy periods in time order, back-to-back chunks merged: (start, end) in ns.
    private var intervals: [(startNs: Int64, endNs: Int64)] = []

    /// The statistics of a link that has carried nothing.
    public init() {}

    public static func == (lhs: LinkStats, rhs: LinkStats) -> Bool {
        lhs.bytes == rhs.bytes && lhs.chunkCount == rhs.chunkCount && lhs.busyTime == rhs.busyTime
            && lhs.intervals.elementsEqual(rhs.intervals, by: { $0 == $1 })
    }

    mutating func add(bytes: Int, startNs: Int64, endNs: Int64) {
        self.bytes += bytes
        chunkCount += 1
        busyTime = busyTime + .nanoseconds(endNs - startNs)
        if let last = intervals.last, last.endNs == startNs {
            intervals[intervals.count - 1].endNs = endNs
        } else if endNs > startNs {
            intervals.append((startNs, endNs))
        }
    }

    /// The end of the last busy period, or the start of time when the link never worked.
    public var lastBusyEnd: SimInstant { SimInstant(nanosecondsSinceStart: intervals.last?.endNs ?? 0) }

    /// The fraction of `start..<end` the link spent serialising (0 for an empty window).
    public func utilisation(from start: SimInstant, to end: SimInstant) -> Double {
        let from = start.nanosecondsSinceStart
        let to = end.nanosecondsSinceStart
        guard to > from else { return 0 }
        var low = 0
        var high = intervals.count
        while low < high {
            let middle = (low + high) / 2
            if intervals[middle].endNs <= from { low = middle + 1 } else { high = middle }
        }
        var busyNs: Int64 = 0
        for interval in intervals[low...] {
            if interval.startNs >= to { break }
            busyNs += min(interval.endNs, to) - max(interval.startNs, from)
        }
        return Double(busyNs) / Double(to - from)
    }
}
