import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

/// The pipeline trainer reports its ops to `Simulation.work` (the progress line's "share of the step's ops").
@Suite(.serialized) struct PipelineProgressTests {
    /// Records the work counts a drive observer sees.
    final class WorkObserver: DriveObserver {
        var seen: [(done: Int, total: Int, unit: String)] = []
        func driveStarted(_ progress: DriveProgress) {}
        func driveProgressed(_ progress: DriveProgress) {
            seen.append((progress.workDone, progress.workTotal, progress.workUnit))
        }
        func driveEnded(_ progress: DriveProgress) {
            seen.append((progress.workDone, progress.workTotal, progress.workUnit))
        }
    }

    @Test("the op counter reaches the run's total at the end and is in between mid-run; the timeline is unchanged")
    func opsCounterReachesTheTotal() throws {
        func run(observed: Bool) throws -> (hash: UInt64, events: UInt64, observer: WorkObserver, ops: Int) {
            let (trainer, _, simulation) = try StepMemoryPlanTests.trainer(.dualPipe, microBatches: 4, steps: 2)
            let observer = WorkObserver()
            if observed {
                simulation.driveObserver = observer
                simulation.observerInterval = 256
            }
            trainer.start()
            #expect(simulation.run() == .finished)
            #expect(simulation.work.done == simulation.work.total)
            return (simulation.trace.hash, simulation.eventCount, observer, trainer.pipeline.opsPerStep)
        }
        let plain = try run(observed: false)
        let observed = try run(observed: true)
        #expect(observed.hash == plain.hash && observed.events == plain.events)
        // 16 workers × their DualPipe op lists (PP=2, m=4), 2 steps.
        let schedule = try PipelineSchedule.generate(.dualPipe, stages: 2, microBatches: 4)
        #expect(plain.ops == 8 * schedule.devices.reduce(0) { $0 + $1.count })
        let total = 2 * plain.ops
        let last = try #require(observed.observer.seen.last)
        #expect(last.done == total && last.total == total && last.unit == "ops")
        let middle = observed.observer.seen.dropLast().filter { $0.done > 0 && $0.done < total }
        #expect(!middle.isEmpty)
        #expect(observed.observer.seen.allSatisfy { $0.total == total })
        #expect(zip(observed.observer.seen, observed.observer.seen.dropFirst()).allSatisfy { $0.done <= $1.done })
    }
}
