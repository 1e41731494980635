import DequeModule
import SimCore

/// What a link has carried: bytes, chunks, busy time, and the busy time from the start to any instant no earlier
/// than the simulation's time (utilisation).
///
/// Two statistics are equal when their counters, folded sum, kept periods and last booking time are: the same
/// periods booked at other times, or other periods folded into the same sum, may compare either way.
///
/// Busy periods are folded into one sum once the simulation's time has passed their end, since every later
/// reading counts them whole: only the last period (held inline, as most work on a busy link comes back to
/// back) and the closed periods booked ahead of the simulation's time are kept apart. A V3 step makes ~400 M
/// flow-port bookings; keeping every closed period cost ~500 MiB and ~10 % of its time.
public struct LinkStats: Sendable, Equatable {
    /// Bytes serialised so far.
    public private(set) var bytes = 0
    /// Chunks serialised so far.
    public private(set) var chunkCount = 0
    /// Total time spent serialising.
    public private(set) var busyTime = SimDuration.zero
    /// The busy time of the closed periods that had ended by the simulation's time of a later `add` (ns).
    private var foldedBusyNs: Int64 = 0
    /// Closed periods not folded yet (they had not ended when they closed), in time order: (start, end) in ns.
    private var aheadOfTime: Deque<Period> = []
    /// The last busy period (ns); none while `openEndNs == openStartNs`.
    private var openStartNs: Int64 = 0
    private var openEndNs: Int64 = 0
    /// The simulation's time at the last `add` (ns): readings are exact from then on.
    private(set) var lastAddNs: Int64 = 0

    private struct Period: Sendable, Equatable {
        var startNs: Int64
        var endNs: Int64
    }

    /// The statistics of a link that has carried nothing.
    public init() {}

    /// Counts a chunk or flow of `bytes` serialised from `startNs` to `endNs`, no earlier than the last one's
    /// end, added when the simulation's time is `nowNs` (a flow may be booked before or after its period).
    mutating func add(bytes: Int, startNs: Int64, endNs: Int64, nowNs: Int64) {
        self.bytes += bytes
        chunkCount += 1
        busyTime = busyTime + .nanoseconds(endNs - startNs)
        lastAddNs = max(lastAddNs, nowNs)
        if openEndNs == startNs {
            // Back to back (or the first period starting at 0): the open period grows.
            openEndNs = endNs
        } else if endNs > startNs {
            if openEndNs > openStartNs { close(Period(startNs: openStartNs, endNs: openEndNs)) }
            (openStartNs, openEndNs) = (startNs, endNs)
        }
    }

    /// Folds `period` and the periods kept before it that have ended by `lastAddNs`; keeps the rest in order.
    private mutating func close(_ period: Period) {
        while let first = aheadOfTime.first, first.endNs <= lastAddNs {
            foldedBusyNs += first.endNs - first.startNs
            aheadOfTime.removeFirst()
        }
        if period.endNs <= lastAddNs {
            foldedBusyNs += period.endNs - period.startNs
        } else {
            aheadOfTime.append(period)
        }
    }

    /// Closed periods kept apart from the folded sum (booked ahead of the simulation's time, not passed yet).
    var keptPeriodCount: Int { aheadOfTime.count }

    /// The end of the last busy period, or the start of time when the link never worked.
    public var lastBusyEnd: SimInstant { SimInstant(nanosecondsSinceStart: openEndNs) }

    /// The fraction of `.start..<end` the link spent serialising (0 at the start), for any `end` no earlier than
    /// `lastAddNs` (e.g. the simulation's time when the statistics are read); periods booked past `end` count
    /// only up to it.
    public func utilisation(to end: SimInstant) -> Double {
        let toNs = end.nanosecondsSinceStart
        assert(toNs >= lastAddNs, "link statistics read at \(toNs) ns, before their last booking at \(lastAddNs) ns")
        guard toNs > 0 else { return 0 }
        var busyNs = foldedBusyNs + overlapNs(openStartNs, openEndNs, toNs)
        for period in aheadOfTime {
            if period.startNs >= toNs { break }
            busyNs += overlapNs(period.startNs, period.endNs, toNs)
        }
        return Double(busyNs) / Double(toNs)
    }

    /// The part of the period `startNs..<endNs` before `toNs` (ns).
    private func overlapNs(_ startNs: Int64, _ endNs: Int64, _ toNs: Int64) -> Int64 {
        max(0, min(endNs, toNs) - startNs)
    }
}
