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
}
