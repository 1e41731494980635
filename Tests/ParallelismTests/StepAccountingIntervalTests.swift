import SimCore
import Testing

@testable import Parallelism

/// `StepAccounting`'s classification of hand-made intervals: busy time from the executed-busy readings, the
/// idle rest by the interval's kind, gaps between intervals as remainder.
@Suite struct StepAccountingIntervalTests {
    private func at(_ ns: Int64) -> SimInstant { .start + .nanoseconds(ns) }

    @Test func intervalsSplitIntoTheirParts() {
        var accounting = StepAccounting(start: at(0))
        // A compute op of 10 ns whose kernels ran 6 ns: 4 ns waited on the EP all-to-all.
        accounting.open(at: at(0), executedBusy: .zero)
        accounting.close(.compute(unitCost: false), at: at(10), executedBusy: .nanoseconds(6))
        // 2 ns outside any interval.
        accounting.open(at: at(12), executedBusy: .nanoseconds(6))
        // A receive from 12 to 40: 2 ns of queued kernels, then idle from 14; the producer sent at 30.
        accounting.close(
            .wait(sentAt: at(30), communication: .ppCommunication), at: at(40), executedBusy: .nanoseconds(8))
        // A receive whose message was sent before the wait began: all communication.
        accounting.open(at: at(40), executedBusy: .nanoseconds(8))
        accounting.close(
            .wait(sentAt: at(5), communication: .ppCommunication), at: at(45), executedBusy: .nanoseconds(8))
        // The update: 3 ns of AdamW, 7 ns of collectives.
        accounting.open(at: at(45), executedBusy: .nanoseconds(8))
        accounting.close(.update, at: at(55), executedBusy: .nanoseconds(11))
        // A unit-cost op is compute throughout.
        accounting.open(at: at(55), executedBusy: .nanoseconds(11))
        accounting.close(.compute(unitCost: true), at: at(60), executedBusy: .nanoseconds(11))
        let parts = accounting.closed(stepStart: at(0), stepEnd: at(70))
        #expect(parts[.compute] == .nanoseconds(6 + 2 + 5))
        #expect(parts[.epCommunication] == .nanoseconds(4))
        #expect(parts[.bubble] == .nanoseconds(16 + 10))  // 14 … 30 before the send, 60 … 70 at the barrier
        #expect(parts[.ppCommunication] == .nanoseconds(10 + 5))
        #expect(parts[.optimizer] == .nanoseconds(3) && parts[.dpCommunication] == .nanoseconds(7))
        #expect(parts[.remainder] == .nanoseconds(2))
        #expect(parts.total == .nanoseconds(70))
    }
}
