import SimCore
import Testing

@testable import Hardware

/// `LinkStats` against hand-worked intervals: back-to-back chunks merge, a gap starts a new busy period, and
/// utilisation over a window counts the busy time inside it, the last period included.
@Suite("Link statistics")
struct LinkStatsTests {
    private func at(_ ns: Int64) -> SimInstant { SimInstant(nanosecondsSinceStart: ns) }

    @Test("busy periods merge back to back and split at gaps; a window counts every period it overlaps")
    func intervalsAndWindows() {
        var stats = LinkStats()
        #expect(stats.lastBusyEnd == at(0))
        #expect(stats.utilisation(from: at(0), to: at(100)) == 0)
        // Busy 10..<30 (two chunks back to back), 50..<60, then 60..<80 merged into the last period.
        stats.add(bytes: 100, startNs: 10, endNs: 20)
        stats.add(bytes: 100, startNs: 20, endNs: 30)
        stats.add(bytes: 50, startNs: 50, endNs: 60)
        stats.add(bytes: 0, startNs: 60, endNs: 60)
        stats.add(bytes: 100, startNs: 60, endNs: 80)
        #expect(stats.bytes == 350 && stats.chunkCount == 5 && stats.busyTime == .nanoseconds(50))
        #expect(stats.lastBusyEnd == at(80))
        #expect(stats.utilisation(from: at(0), to: at(100)) == 0.5)
        #expect(stats.utilisation(from: at(20), to: at(55)) == 15.0 / 35)
        #expect(stats.utilisation(from: at(70), to: at(90)) == 0.5)
        #expect(stats.utilisation(from: at(30), to: at(50)) == 0)
        #expect(stats.utilisation(from: at(85), to: at(95)) == 0)
        // The same periods in fewer chunks: the same utilisation, yet not equal statistics (the chunk counts).
        var same = LinkStats()
        same.add(bytes: 200, startNs: 10, endNs: 30)
        same.add(bytes: 150, startNs: 50, endNs: 80)
        #expect(same.utilisation(from: at(0), to: at(100)) == 0.5)
        #expect(same != stats, "chunk counts differ")
    }

    @Test("a first period from 0 and a lone zero-length chunk: no period, then one; equal only with equal periods")
    func periodsFromTheStart() {
        var stats = LinkStats()
        stats.add(bytes: 0, startNs: 0, endNs: 0)
        #expect(stats.lastBusyEnd == at(0) && stats.utilisation(from: at(0), to: at(10)) == 0)
        stats.add(bytes: 10, startNs: 0, endNs: 5)
        #expect(stats.lastBusyEnd == at(5) && stats.utilisation(from: at(0), to: at(10)) == 0.5)
        var later = LinkStats()
        later.add(bytes: 0, startNs: 0, endNs: 0)
        later.add(bytes: 10, startNs: 1, endNs: 6)
        #expect(later.utilisation(from: at(0), to: at(10)) == 0.5)
        #expect(later != stats, "the same bytes, chunks and busy time in another period")
    }

    @Test("seeded random chunks: utilisation over random windows equals the sum over every period, kept in a list")
    func matchesEveryPeriodListed() {
        var generator = Xoshiro256StarStar(seed: 7)
        var stats = LinkStats()
        var periods: [(startNs: Int64, endNs: Int64)] = []
        var nowNs: Int64 = 0
        for _ in 0..<2_000 {
            // Half the chunks back to back, the rest after a gap of up to 20 ns; some of zero length.
            let startNs = nowNs + (generator.next() % 2 == 0 ? 0 : Int64(generator.next() % 20))
            let endNs = startNs + Int64(generator.next() % 8)
            stats.add(bytes: 1, startNs: startNs, endNs: endNs)
            if let last = periods.last, last.endNs == startNs {
                periods[periods.count - 1].endNs = endNs
            } else if endNs > startNs {
                periods.append((startNs, endNs))
            }
            nowNs = endNs
        }
        #expect(stats.lastBusyEnd == at(periods.last?.endNs ?? 0))
        let totalNs = periods.reduce(Int64(0)) { $0 + $1.endNs - $1.startNs }
        #expect(stats.busyTime == .nanoseconds(totalNs))
        #expect(stats.utilisation(from: at(0), to: at(nowNs)) == Double(totalNs) / Double(nowNs))
        for _ in 0..<500 {
            let from = Int64(generator.next() % UInt64(nowNs + 10))
            let to = from + 1 + Int64(generator.next() % 200)
            let busyNs = periods.reduce(Int64(0)) { $0 + max(0, min($1.endNs, to) - max($1.startNs, from)) }
            #expect(stats.utilisation(from: at(from), to: at(to)) == Double(busyNs) / Double(to - from))
        }
    }
}
