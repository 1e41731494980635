import SimCore
import Testing

@testable import Scenario

@Suite("Progress line")
struct ProgressLineTests {
    private func progress(_ nanoseconds: Int64, events: UInt64, done: Int = 0, total: Int = 0) -> DriveProgress {
        DriveProgress(
            now: SimInstant(nanosecondsSinceStart: nanoseconds), events: events, eventsThisDrive: events,
            workDone: done, workTotal: total, workUnit: total > 0 ? "ops" : "")
    }

    @Test("the text shows virtual time, the share of ops, events and events/s; events alone when ops are unknown")
    func formatting() {
        #expect(
            ProgressLine.format(
                progress(1_250_000, events: 1_200_000, done: 1_200, total: 3_000), eventsPerSecond: 350e3)
                == "t=1.25ms · ops 40.0 % (1,200/3,000) · 1.20M events · 350.0k events/s")
        #expect(
            ProgressLine.format(progress(3_000, events: 950), eventsPerSecond: 2.5e9)
                == "t=3µs · 950 events · 2.50G events/s")
        #expect(ProgressLine.grouped(1_234_567) == "1,234,567" && ProgressLine.grouped(12) == "12")
    }

    @Test("nothing before the delay, then at most one redraw per 0.1 s, events/s over the drive's wall time")
    func throttle() {
        var line = ProgressLine(delaySeconds: 0.5, minimumIntervalSeconds: 0.1)
        line.start(progress(0, events: 1_000), atSeconds: 10)
        #expect(line.update(progress(100, events: 1_500), atSeconds: 10.3) == nil)
        #expect(!line.isShowing)
        #expect(line.update(progress(200, events: 2_000), atSeconds: 10.5) == "t=200ns · 2.0k events · 2.0k events/s")
        #expect(line.update(progress(300, events: 2_100), atSeconds: 10.55) == nil)
        #expect(line.update(progress(400, events: 2_200), atSeconds: 10.61) != nil)
        let (first, second) = (line.end(), line.end())
        #expect(first && !second)
        // A new drive waits again.
        line.start(progress(400, events: 2_200), atSeconds: 20)
        #expect(line.update(progress(500, events: 2_300), atSeconds: 20.1) == nil)
        let shown = line.end()
        #expect(!shown)
    }
}
