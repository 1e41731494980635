import SimCore
import Testing

@testable import Hardware

/// The conservation checks hold on healthy runs and fail, precisely, when a test hook breaks a delivery.
@Suite("Conservation checks")
struct ConservationTests {
    /// Sends `bytes` from gpu0 to gpu1 with `damage` on `link` and runs; returns the check and the stop reason.
    private func run(damage: Link.TestingDamage?, on link: String) throws -> (ConservationReport, StopReason) {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        if let damage { simulation.inspect(try cluster.link(named: link)) { $0.testingDamage = damage } }
        let message = try phantomMessage(bytes: 400_000)
        let (source, destination) = (cluster.gpus[0], cluster.gpus[1])
        simulation.spawn(name: "sender") { _ = try await source.startSend(message, to: destination.id, tag: 3) }
        let reason = simulation.run()
        return (cluster.checkConservation(), reason)
    }

    @Test("a healthy message: bytes in = bytes out on every link, delivered exactly once")
    func healthy() throws {
        let (report, reason) = try run(damage: nil, on: "")
        #expect(reason == .finished)
        #expect(report.holds)
        #expect(
            report.description
                == "conservation holds: 56 links (bytes in = bytes out), 1 messages sent, 1 delivered exactly once, "
                + "HBM of 8 GPUs consistent")
    }

    @Test("a dropped chunk is named: the message, the two links, and the counts")
    func droppedChunk() throws {
        let (report, reason) = try run(damage: .dropNextChunk, on: "gpu0.nvlink.out")
        #expect(reason == .finished)
        #expect(
            report.violations == [
                "gpu0->gpu1 tag 3 (400000 bytes in 4 chunks) lost 1 chunk(s) between gpu0.nvlink.out (serialised 4) "
                    + "and node0.nvswitch.port1.out (received 3)"
            ])
    }

    @Test("a duplicated chunk is named at the destination")
    func duplicatedChunk() throws {
        let (report, _) = try run(damage: .duplicateNextChunk, on: "node0.nvswitch.port1.out")
        #expect(report.violations == ["gpu0->gpu1 tag 3: 5 chunks arrived at gpu1, but it was sent as 4"])
    }

    @Test("corrupt HBM accounting is named")
    func corruptHBM() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        try simulation.inspect(cluster.gpus[5]) { gpu in
            try gpu.allocate(1_000, .activations)
            gpu.corruptHBMForTesting(.activations, currentBytes: -24)
        }
        #expect(
            cluster.checkConservation().violations == [
                "gpu5 HBM activations: -24 bytes allocated (negative)",
                "gpu5 HBM: 1000 bytes used, but the kinds add up to -24",
            ])
    }
}
