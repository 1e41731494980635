import Collectives
import Hardware
import SimCore
import Tensors
import Testing

/// Ring collectives of phantom tensors under `phantom-flows`: each ring block travels as one flow with the
/// store-and-forward fill of one slice, instead of one flow per slice.
@Suite("Phantom ring blocks as flows", .serialized)
struct PhantomFlowRingTests {
    /// When the last rank finished, and the events the run took.
    struct Outcome {
        var endNs: Int64
        var events: UInt64
        var ibBytes: Int
    }

    enum Mode {
        /// The runner's ring: one flow per ring block, with one slice's fill.
        case runner
        /// The sliced plans: one flow per slice.
        case sliced
        /// One flow per ring block with the whole block's fill (no fill hint).
        case wholeBlockFill
    }

    /// A reduce-scatter then an all-gather of `elements` BF16 elements per rank on 16 GPUs of 2 nodes
    /// (phantom-flows on), run as `mode` says.
    static func ring(elements: Int, _ mode: Mode, flows: Bool = true) throws -> Outcome {
        var spec = ClusterSpec(gpu: .h800, nodeCount: 2)
        spec.phantomMessagesAsFlows = flows
        let cluster = try Cluster(spec, in: makeSimulation())
        let communicator = try Communicator(cluster: cluster, ranks: (0..<16).map(GPUID.init))
        let runner = CollectiveRunner(communicator: communicator)
        let counts = CollectivePlan.evenSplit(elements, into: 16)
        let slicing = mode == .sliced ? Slicing(dtype: .bf16) : .whole
        for rank in 0..<16 {
            cluster.simulation.spawn(name: "rank \(rank)") {
                let input = try Tensor(phantom: [elements], dtype: .bf16)
                guard mode != .runner else {
                    let shard = try await runner.reduceScatter(input, rank: rank, blockCounts: counts)
                    _ = try await runner.allGather(shard, rank: rank, elementCounts: counts)
                    return
                }
                let reduce = try CollectivePlan.reduceScatter(blockCounts: counts, slicing: slicing, onlyRank: rank)
                let shard = try await runner.executeRank(reduce, rank: rank, input: input)
                let gather = try CollectivePlan.allGather(elementCounts: counts, slicing: slicing, onlyRank: rank)
                _ = try await runner.executeRank(gather, rank: rank, input: shard)
            }
        }
        #expect(cluster.simulation.run() == .finished)
        #expect(cluster.checkConservation().holds)
        let ib = try cluster.linkReport(named: "gpu7.nic.out").bytes
        return Outcome(
            endNs: cluster.simulation.now.nanosecondsSinceStart, events: cluster.simulation.eventCount, ibBytes: ib)
    }

    @Test("one flow per ring block ends when the sliced flows do (to their ns rounding), in over s/2× fewer events")
    func wholeBlocksMatchSlices() throws {
        let elements = 16 << 20  // 32 MiB of BF16 per rank: 2 MiB ring blocks, 8 slices of 256 KiB
        let slices = Slicing(dtype: .bf16).sliceCount(elements: elements / 16)
        #expect(slices == 8)
        let whole = try Self.ring(elements: elements, .runner)
        let sliced = try Self.ring(elements: elements, .sliced)
        // Each of the 30 ring steps rounds every slice's booking up to a whole ns on each link of its route.
        let roundingNs = Int64(30 * 6 * slices)
        #expect(abs(whole.endNs - sliced.endNs) <= roundingNs, "\(whole.endNs) vs \(sliced.endNs) ns")
        #expect(whole.ibBytes == sliced.ibBytes && whole.ibBytes > 0)
        #expect(whole.events * UInt64(slices) / 2 < sliced.events, "\(whole.events) vs \(sliced.events) events")
        // Without the fill hint each block would pay its own (bigger) last chunk's fill on every step.
        let blockFill = try Self.ring(elements: elements, .wholeBlockFill)
        #expect(blockFill.endNs > whole.endNs + 10 * roundingNs, "\(blockFill.endNs) vs \(whole.endNs) ns")
        #expect(blockFill.events == whole.events)
    }

    @Test("without phantom-flows the runner's phantom ring keeps its slices: the same run as the sliced plans")
    func chunkedRingsKeepSlices() throws {
        let runner = try Self.ring(elements: 16 << 20, .runner, flows: false)
        let sliced = try Self.ring(elements: 16 << 20, .sliced, flows: false)
        #expect(runner.endNs == sliced.endNs)
        #expect(runner.events == sliced.events)
        #expect(runner.ibBytes == sliced.ibBytes && runner.ibBytes > 0)
    }
}
