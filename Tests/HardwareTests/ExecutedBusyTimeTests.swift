import Hardware
import SimCore
import Testing

/// `SMPartition.executedBusyTime(by:)`: the busy time enqueued minus what is still ahead, on a hand-made
/// sequence of kernels with an idle gap and an enqueue onto a busy partition.
@Suite("Executed busy time")
struct ExecutedBusyTimeTests {
    @Test("back-to-back kernels, an idle gap, and a kernel queued behind a running one")
    func executedBusyTimeFollowsTheKernels() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let compute = cluster.gpus[0].compute
        let copy = Kernel(name: "copy", flops: 0, hbmBytes: 335_000_000)  // 100 µs + 4 µs launch
        let readings = Collector<SimDuration>(in: simulation)
        func at(_ microseconds: Int64) -> SimInstant { .start + .microseconds(microseconds) }
        simulation.spawn(name: "kernels") {
            let clock = simulation.clock
            try await compute.enqueue(copy)  // 0 … 104
            try await compute.enqueue(copy)  // 104 … 208 (contiguous behind the first)
            await readings.set(0, await compute.executedBusyTime(by: at(0)))
            await readings.set(1, await compute.executedBusyTime(by: at(50)))
            await readings.set(2, await compute.executedBusyTime(by: at(150)))
            try await clock.sleep(until: at(300))
            await readings.set(3, await compute.executedBusyTime(by: at(300)))
            try await compute.enqueue(copy)  // idle since 208: 300 … 404
            await readings.set(4, await compute.executedBusyTime(by: at(300)))
            await readings.set(5, await compute.executedBusyTime(by: at(350)))
            try await clock.sleep(until: at(350))
            try await compute.enqueue(copy)  // queued behind the running one: 404 … 508
            await readings.set(6, await compute.executedBusyTime(by: at(350)))
            await readings.set(7, await compute.executedBusyTime(by: at(450)))
            await readings.set(8, await compute.executedBusyTime(by: at(600)))
        }
        #expect(simulation.run() == .finished)
        let values = simulation.inspect(readings) { values in (0..<9).map { values.values[$0] ?? .seconds(-1) } }
        let expected: [Int64] = [0, 50, 150, 208, 208, 258, 258, 358, 416]
        #expect(values == expected.map { SimDuration.microseconds($0) })
        #expect(simulation.inspect(compute) { $0.busyTime } == .microseconds(416))
    }
}
