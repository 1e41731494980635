import Hardware
import SimCore
import Tensors
import Testing

@Suite("Wire bytes independent of storage")
struct WireBytesTests {
    @Test("a send with wireBytes charges those bytes on every link and takes their time; values arrive intact")
    func wireBytesSetTheTraffic() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster.singleNode(in: simulation)
        // 1 MiB of Float storage sent as 7408 bytes per row of 64 rows (FP8 + scales + metadata).
        let values = (0..<(64 * 4096)).map { Float($0 % 97) }
        let tensor = try Tensor(shape: [64, 4096], values: values)
        let wire = 64 * 7408
        let received = Collector<Tensor>(in: simulation)
        let handles = Collector<SendHandle>(in: simulation)
        let (gpu0, gpu1) = (cluster.gpus[0], cluster.gpus[1])
        simulation.spawn(name: "sender") {
            let handle = try await gpu0.startSend(tensor, to: GPUID(1), tag: 7, wireBytes: wire)
            try await handle.wait()
            await handles.set(0, handle)
        }
        simulation.spawn(name: "receiver") { await received.set(0, try await gpu1.receive(from: GPUID(0), tag: 7)) }
        #expect(simulation.run() == .finished)
        let handle = try #require(simulation.inspect(handles) { $0.values[0] })
        #expect(handle.bytes == wire)
        #expect(try cluster.stats("gpu0.nvlink.out").bytes == wire)
        #expect(try cluster.stats("node0.nvswitch.port1.out").bytes == wire)
        #expect((try? simulation.inspect(received) { $0.values[0] }?.scalars()) == values)
        // The same message without wireBytes charges the Float storage: 4 bytes per element.
        let plain = try Cluster.singleNode(in: makeSimulation()).arrivalTimes([TestSend(from: 0, to: 1, bytes: wire)])
        let delivered = try #require(handle.deliveredAt).nanosecondsSinceStart
        #expect(delivered == plain[0])
    }

    @Test("negative wireBytes is refused, naming the value")
    func negativeWireBytes() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster.singleNode(in: simulation)
        let gpu0 = cluster.gpus[0]
        let failure = Collector<String>(in: simulation)
        simulation.spawn(name: "sender") {
            do {
                _ = try await gpu0.startSend(try Tensor(zeros: [4]), to: GPUID(1), tag: 1, wireBytes: -5)
            } catch {
                await failure.set(0, String(describing: error))
            }
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.inspect(failure) { $0.values[0] }?.contains("-5") == true)
    }
}
