import SimCore
import Testing

@testable import Hardware

/// `LinkStats` against hand-worked periods: back-to-back chunks merge, a gap starts a new busy period, periods
/// the simulation's time has passed fold into one sum, and utilisation from the start counts periods booked
/// ahead of that time only up to the instant read.
@Suite("Link statistics")
struct LinkStatsTests {
    private func at(_ ns: Int64) -> SimInstant { SimInstant(nanosecondsSinceStart: ns) }

    @Test("busy periods merge back to back and split at gaps; utilisation counts what lies before the instant read")
    func periodsAndUtilisation() {
        var stats = LinkStats()
        #expect(stats.lastBusyEnd == at(0))
        #expect(stats.utilisation(to: at(100)) == 0)
        // Busy 10..<30 (two chunks back to back), 50..<60, then 60..<80 merged into the last period.
        stats.add(bytes: 100, startNs: 10, endNs: 20, nowNs: 20)
        stats.add(bytes: 100, startNs: 20, endNs: 30, nowNs: 30)
        stats.add(bytes: 50, startNs: 50, endNs: 60, nowNs: 60)
        stats.add(bytes: 0, startNs: 60, endNs: 60, nowNs: 60)
        stats.add(bytes: 100, startNs: 60, endNs: 80, nowNs: 80)
        #expect(stats.bytes == 350 && stats.chunkCount == 5 && stats.busyTime == .nanoseconds(50))
        #expect(stats.lastBusyEnd == at(80))
        #expect(stats.utilisation(to: at(100)) == 0.5)
        #expect(stats.utilisation(to: at(80)) == 50.0 / 80)
        // The same periods in fewer chunks: the same utilisation, yet not equal statistics (the chunk counts).
        var same = LinkStats()
        same.add(bytes: 200, startNs: 10, endNs: 30, nowNs: 30)
        same.add(bytes: 150, startNs: 50, endNs: 80, nowNs: 80)
        #expect(same.utilisation(to: at(100)) == 0.5)
        #expect(same != stats, "chunk counts differ")
    }

    @Test("flows booked ahead of the simulation's time count only up to the instant read, however many gaps")
    func periodsBookedAhead() {
        var stats = LinkStats()
        // At t = 5 three flows are booked for later, with gaps: 10..<20, 30..<40, 50..<60.
        for startNs: Int64 in [10, 30, 50] { stats.add(bytes: 1, startNs: startNs, endNs: startNs + 10, nowNs: 5) }
        #expect(stats.keptPeriodCount == 2, "10..<20 and 30..<40 closed before time reached them")
        #expect(stats.utilisation(to: at(5)) == 0)
        #expect(stats.utilisation(to: at(15)) == 5.0 / 15)
        #expect(stats.utilisation(to: at(35)) == 15.0 / 35)
        #expect(stats.utilisation(to: at(60)) == 0.5)
        // At t = 70 one more, in the past of the simulation (the port was idle): every period before it is whole.
        stats.add(bytes: 1, startNs: 62, endNs: 66, nowNs: 70)
        #expect(stats.keptPeriodCount == 0, "every closed period has ended by t = 70: all folded")
        #expect(stats.utilisation(to: at(70)) == 34.0 / 70)
        #expect(stats.busyTime == .nanoseconds(34))
    }

    @Test("a first period from 0 and a lone zero-length chunk: no period, then one; another period is unequal")
    func periodsFromTheStart() {
        var stats = LinkStats()
        stats.add(bytes: 0, startNs: 0, endNs: 0, nowNs: 0)
        #expect(stats.lastBusyEnd == at(0) && stats.utilisation(to: at(10)) == 0)
        stats.add(bytes: 10, startNs: 0, endNs: 5, nowNs: 0)
        #expect(stats.lastBusyEnd == at(5) && stats.utilisation(to: at(10)) == 0.5)
        var later = LinkStats()
        later.add(bytes: 0, startNs: 0, endNs: 0, nowNs: 0)
        later.add(bytes: 10, startNs: 1, endNs: 6, nowNs: 0)
        #expect(later.utilisation(to: at(10)) == 0.5)
        #expect(later != stats, "the same bytes, chunks and busy time in another period")
    }

    @Test("seeded random bookings, some ahead of time: utilisation at each booking's time equals the sum over a list")
    func matchesEveryPeriodListed() {
        var generator = Xoshiro256StarStar(seed: 7)
        var stats = LinkStats()
        var periods: [(startNs: Int64, endNs: Int64)] = []
        var busyUntilNs: Int64 = 0
        var nowNs: Int64 = 0
        for _ in 0..<2_000 {
            // The simulation moves on by up to 30 ns; a booking starts at the port's end, after a gap of up to
            // 20 ns, or (while the port is free) up to 10 ns before now; some are of zero length.
            nowNs += Int64(generator.next() % 30)
            let wanted = nowNs + Int64(generator.next() % 30) - 10
            let startNs = generator.next() % 2 == 0 ? busyUntilNs : max(busyUntilNs, wanted)
            let endNs = startNs + Int64(generator.next() % 8)
            stats.add(bytes: 1, startNs: startNs, endNs: endNs, nowNs: nowNs)
            if let last = periods.last, last.endNs == startNs {
                periods[periods.count - 1].endNs = endNs
            } else if endNs > startNs {
                periods.append((startNs, endNs))
            }
            busyUntilNs = endNs
            // Read at now and a little after, as `show links` would between steps.
            for toNs in [nowNs, nowNs + Int64(generator.next() % 50)] where toNs > 0 {
                let busyNs = periods.reduce(Int64(0)) { $0 + max(0, min($1.endNs, toNs) - $1.startNs) }
                #expect(stats.utilisation(to: at(toNs)) == Double(busyNs) / Double(toNs))
            }
        }
        #expect(stats.lastBusyEnd == at(periods.last?.endNs ?? 0))
        // Periods fold once time passes them: only those near the end stay apart, of ~1,000.
        #expect(stats.keptPeriodCount < 50, "\(stats.keptPeriodCount) of \(periods.count) periods kept apart")
        let totalNs = periods.reduce(Int64(0)) { $0 + $1.endNs - $1.startNs }
        #expect(stats.busyTime == .nanoseconds(totalNs))
    }
}
