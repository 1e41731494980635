import Hardware
import SimCore
import Tensors
import Testing

@Suite("Tensor messages")
struct TensorMessageTests {
    @Test("tensor basics: byte sizes per dtype, count checks, phantom has no values")
    func tensorBasics() throws {
        #expect(DType.allCases.map(\.bytesPerElement) == [4, 2, 2, 1])
        let real = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], dtype: .bf16)
        #expect(real.elementCount == 6 && real.byteCount == 12 && !real.isPhantom)
        #expect(throws: (any Error).self) { try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5], dtype: .fp32) }
        let phantom = try Tensor(phantom: [7168, 2048], dtype: .fp8e4m3)
        #expect(phantom.isPhantom && (try? phantom.scalars()) == nil)
        #expect(phantom.byteCount == 7168 * 2048)
    }

    @Test("real tensors arrive bit-identical across NVLink and IB; phantom ones arrive phantom")
    func payloadsArriveIntact() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 2), in: simulation)
        var generator = simulation.random.stream(named: "payload")
        let bits = (0..<50_000).map { _ in UInt32(truncatingIfNeeded: generator.next()) } + [0x7FC0_1234, 0x8000_0000]
        let sent = try Tensor(shape: [bits.count], values: bits.map(Float.init(bitPattern:)), dtype: .fp32)
        let phantom = try Tensor(phantom: [4096, 7168], dtype: .bf16)
        let received = Collector<Tensor>(in: simulation)
        let (gpu0, gpu3, gpu13) = (cluster.gpus[0], cluster.gpus[3], cluster.gpus[13])
        simulation.spawn(name: "sender") {
            try await gpu0.send(sent, to: GPUID(3), tag: 1)
            try await gpu0.send(sent, to: GPUID(13), tag: 1)
            try await gpu0.send(phantom, to: GPUID(13), tag: 2)
        }
        simulation.spawn(name: "receiver3") { await received.set(0, try await gpu3.receive(from: GPUID(0), tag: 1)) }
        simulation.spawn(name: "receiver13") {
            await received.set(2, try await gpu13.receive(from: GPUID(0), tag: 2))
            await received.set(1, try await gpu13.receive(from: GPUID(0), tag: 1))
        }
        #expect(simulation.run() == .finished)
        let values = simulation.inspect(received) { $0.values }
        for index in [0, 1] {
            #expect((try? values[index]?.scalars())??.map(\.bitPattern) == bits)
            #expect(values[index]?.shape == [bits.count])
        }
        #expect(values[2]?.isPhantom == true && (try? values[2]?.scalars()) == nil && values[2]?.shape == [4096, 7168])
        #expect(try cluster.stats("leaf5.down1").bytes == sent.byteCount + phantom.byteCount)
    }

    @Test("messages with one source and tag are received in send order, even when a later one lands first")
    func receiveOrder() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let (gpu0, gpu1) = (cluster.gpus[0], cluster.gpus[1])
        let big = try Tensor(phantom: [4_000_000], dtype: .fp32)
        let small = try Tensor(shape: [1], values: [42], dtype: .fp32)
        let order = Collector<[Int]>(in: simulation)
        simulation.spawn(name: "sender") {
            let first = try await gpu0.startSend(big, to: GPUID(1), tag: 0)
            let second = try await gpu0.startSend(small, to: GPUID(1), tag: 0)
            try await second.wait()
            try await first.wait()
            #expect((second.deliveredAt ?? .start) < (first.deliveredAt ?? .start))
            #expect(
                second.description
                    == "gpu0 -> gpu1 tag 0: 4 bytes in 1 chunk, path "
                    + "gpu0 -> gpu0.comm.out -> gpu0.nvlink.out -> node0.nvswitch.port1.out -> gpu1 (nvlink)")
            #expect(first.chunkCount == 4 && first.bytes == 16_000_000)
        }
        simulation.spawn(name: "receiver") {
            let a = try await gpu1.receive(from: GPUID(0), tag: 0)
            let b = try await gpu1.receive(from: GPUID(0), tag: 0)
            await order.set(0, [a.elementCount, b.elementCount])
        }
        #expect(simulation.run() == .finished)
        #expect(simulation.inspect(order) { $0.values[0] } == [4_000_000, 1])
        #expect(simulation.inspect(gpu1) { $0.pendingMessageCount(from: GPUID(0), tag: 0) } == 0)
    }

    @Test("a receive that nothing matches is reported as blocked, naming what it waits for")
    func unmatchedReceiveBlocks() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let gpu4 = cluster.gpus[4]
        let message = try Tensor(shape: [2], values: [1, 2], dtype: .bf16)
        simulation.spawn(name: "sender") { try await cluster.gpus[2].send(message, to: GPUID(4), tag: 5) }
        simulation.spawn(name: "receiver") { _ = try await gpu4.receive(from: GPUID(2), tag: 6) }
        guard case .blocked(let report) = simulation.run() else {
            Issue.record("an unmatched receive did not block")
            return
        }
        #expect(report.processNames == ["receiver"])
        #expect(report.waiters.map(\.waitsOn) == ["gpu4 receive from gpu2 tag 6"])
        #expect(simulation.inspect(gpu4) { $0.pendingMessageCount(from: GPUID(2), tag: 5) } == 1)
    }

    @Test("sending to a GPU outside the cluster throws")
    func unknownDestination() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let message = try Tensor(phantom: [1], dtype: .fp32)
        simulation.spawn(name: "sender") { try await cluster.gpus[0].send(message, to: GPUID(8), tag: 0) }
        #expect(simulation.run() == .processFailed(process: "sender", error: "no gpu8: the cluster has gpu0...gpu7"))
    }
}
