import Hardware
import SimCore
import Tensors

/// Per-rank entry points: each rank calls the collective from its own simulated process with its own input, as
/// a rank of an NCCL communicator calls `ncclReduceScatter`; the call returns that rank's output.
///
/// Each call builds only the calling rank's program of the plan. Every rank of the communicator must make the
/// same calls in the same order with the same sizes (they build the same plan). Concurrent collectives between
/// the same GPUs need runners with different `tagBase`s (a plan uses tags `tagBase` … `tagBase + 3`; space
/// bases at least `CollectiveRunner.tagStride` apart). The reduction
/// order is the plan's (ring: each block is summed in ring order starting after its owner), so every run adds
/// in the same order and, after an all-reduce or all-gather, every rank holds the same bits. `algorithm:
/// .hierarchical` uses the rail-aware plans (`CollectivePlan.hierarchical`) on node-major groups spanning
/// nodes. Real and phantom tensors both work; phantom moves shapes only with the same timing.
extension CollectiveRunner {
    /// The spacing of tag bases that keeps two collectives' messages apart.
    public static let tagStride = 4

    /// Runs rank `rank`'s program of `plan` with `input` from the calling process and returns its output once
    /// its sends are delivered. Other ranks must run their programs of the same plan concurrently.
    /// `fillSlices` > 1: each message stands for that many slices sent together (see `ringSlicing`).
    public func executeRank(_ plan: CollectivePlan, rank: Int, input: Tensor, fillSlices: Int = 1) async throws
        -> Tensor
    {
        try CollectiveError.require(
            plan.rankCount == communicator.size, "\(plan.name) rank count", plan.rankCount,
            "the communicator has \(communicator.size) ranks")
        try CollectiveError.require(
            plan.programs.indices.contains(rank), "\(plan.name) rank", rank, "must be in 0..<\(plan.rankCount)")
        let program = plan.programs[rank]
        try CollectiveError.require(
            input.elementCount == program.inputElementCount, "\(plan.name) rank \(rank) input", input,
            "needs \(program.inputElementCount) elements")
        return try await runRank(
            program, rank: rank, input: input, gpu: try communicator.gpu(rank: rank), fillSlices: fillSlices)
    }

    /// Ring reduce-scatter of `input` (every rank's input has the same length): rank r gets the reduction of
    /// ring block r, whose sizes are `blockCounts` (default: `evenSplit(input count, p)`).
    public func reduceScatter(
        _ input: Tensor, rank: Int, blockCounts: [Int]? = nil, op: ReduceOp = .sum,
        algorithm: CollectiveAlgorithm = .ring
    ) async throws -> Tensor {
        let counts = blockCounts ?? CollectivePlan.evenSplit(input.elementCount, into: communicator.size)
        return try await runRingOrHierarchical(.reduceScatter, algorithm, counts, op: op, input: input, rank: rank) {
            slicing in
            try CollectivePlan.reduceScatter(blockCounts: counts, op: op, slicing: slicing, onlyRank: rank)
        }
    }

    /// Rank `rank`'s part of the hierarchical plan of `kind` on blocks `counts`, or of the ring plan `ring`
    /// builds with the slicing `ringSlicing` chooses.
    private func runRingOrHierarchical(
        _ kind: CollectivePlan.HierarchicalKind, _ algorithm: CollectiveAlgorithm, _ counts: [Int], op: ReduceOp,
        input: Tensor, rank: Int, ring: (Slicing) throws -> CollectivePlan
    ) async throws -> Tensor {
        if algorithm == .hierarchical {
            let plan = try hierarchicalPlan(kind, counts, op: op, Slicing(dtype: input.dtype), rank: rank)
            return try await executeRank(plan, rank: rank, input: input)
        }
        let slicing = ringSlicing(input, blockCounts: counts)
        return try await executeRank(try ring(slicing.plan), rank: rank, input: input, fillSlices: slicing.fillSlices)
    }

    /// The ring slicing of `input`'s blocks (`blockCounts`) and how many slices each message stands for. Under
    /// `phantom-flows` a phantom ring block travels as one flow with the fill of one of its slices: a ring step
    /// sends all its slices before it receives, so they would arrive with the last one anyway (to the ns, unless
    /// another flow is booked on a shared link at the same instant, between the slices).
    func ringSlicing(_ input: Tensor, blockCounts: [Int]) -> (plan: Slicing, fillSlices: Int) {
        let slicing = Slicing(dtype: input.dtype)
        guard input.isPhantom, communicator.cluster.spec.phantomMessagesAsFlows else { return (slicing, 1) }
        return (.whole, slicing.sliceCount(elements: blockCounts.max() ?? 0))
    }

    private func hierarchicalPlan(
        _ kind: CollectivePlan.HierarchicalKind, _ counts: [Int], op: ReduceOp, _ slicing: Slicing, rank: Int
    ) throws -> CollectivePlan {
        let shape = try communicator.nodeMajorShape()
        return try CollectivePlan.hierarchical(
            kind, nodeCount: shape.nodeCount, gpusPerNode: shape.gpusPerNode, blockCounts: counts, op: op,
            slicing: slicing, onlyRank: rank)
    }

    /// Ring all-gather: rank r contributes `input` (`elementCounts[r]` elements) and gets every rank's piece in
    /// rank order.
    public func allGather(
        _ input: Tensor, rank: Int, elementCounts: [Int], algorithm: CollectiveAlgorithm = .ring
    ) async throws -> Tensor {
        try await runRingOrHierarchical(.allGather, algorithm, elementCounts, op: .sum, input: input, rank: rank) {
            slicing in
            try CollectivePlan.allGather(elementCounts: elementCounts, slicing: slicing, onlyRank: rank)
        }
    }

    /// Ring all-reduce of `input` (the same length on every rank): every rank gets the same reduced values.
    public func allReduce(_ input: Tensor, rank: Int, op: ReduceOp = .sum, algorithm: CollectiveAlgorithm = .ring)
        async throws -> Tensor
    {
        let counts = CollectivePlan.evenSplit(input.elementCount, into: communicator.size)
        return try await runRingOrHierarchical(.allReduce, algorithm, counts, op: op, input: input, rank: rank) {
            slicing in
            try CollectivePlan.allReduce(
                rankCount: communicator.size, elementCount: input.elementCount, op: op, slicing: slicing,
                onlyRank: rank)
        }
    }
}
