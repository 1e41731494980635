import SimCore
import Tensors

/// Collectives by kind and nccl-tests size: the entry point of the report and the scenario commands.
extension CollectiveRunner {
    /// The default slicing of a kind's blocks; broadcast's chain wants more, smaller slices to pipeline.
    public static func slicing(for kind: CollectiveKind, dtype: DType) -> Slicing {
        kind == .broadcast ? Slicing(dtype: dtype, maxSliceCount: 64) : Slicing(dtype: dtype)
    }

    /// The plan of `kind` with S = `elementCount` elements on `communicator` (see `CollectiveKind.sizeMeaning`).
    ///
    /// Element counts need not divide by the rank count: per-rank pieces then differ by one element, the
    /// larger ones on the lower ranks (`CollectivePlan.evenSplit`).
    public static func plan(
        _ kind: CollectiveKind, elementCount: Int, on communicator: Communicator,
        algorithm: CollectiveAlgorithm? = nil, dtype: DType = .bf16, op: ReduceOp = .sum, root: Int = 0
    ) throws -> CollectivePlan {
        let algorithm = algorithm ?? kind.defaultAlgorithm
        let p = communicator.size
        let slicing = slicing(for: kind, dtype: dtype)
        try CollectiveError.require(elementCount >= 0, "element count", elementCount, "must not be negative")
        switch (kind, algorithm) {
        case (.allReduce, .ring):
            return try .allReduce(rankCount: p, elementCount: elementCount, op: op, slicing: slicing)
        case (.reduceScatter, .ring):
            return try .reduceScatter(rankCount: p, elementCount: elementCount, op: op, slicing: slicing)
        case (.allGather, .ring):
            return try .allGather(elementCounts: CollectivePlan.evenSplit(elementCount, into: p), slicing: slicing)
        case (.broadcast, .ring):
            return try .broadcast(rankCount: p, root: root, elementCount: elementCount, slicing: slicing)
        case (.allReduce, .hierarchical), (.reduceScatter, .hierarchical), (.allGather, .hierarchical):
            let shape = try communicator.nodeMajorShape()
            let hierarchicalKind: CollectivePlan.HierarchicalKind =
                kind == .allReduce ? .allReduce : kind == .reduceScatter ? .reduceScatter : .allGather
            return try .hierarchical(
                hierarchicalKind, nodeCount: shape.nodeCount, gpusPerNode: shape.gpusPerNode,
                blockCounts: CollectivePlan.evenSplit(elementCount, into: p), op: op, slicing: slicing)
        case (.allToAll, .pairwise):
            let row = CollectivePlan.evenSplit(elementCount, into: p)
            return try .allToAll(counts: Array(repeating: row, count: p), slicing: slicing)
        case (.allToAll, .hierarchical):
            let row = CollectivePlan.evenSplit(elementCount, into: p)
            return try .hierarchicalAllToAll(
                counts: Array(repeating: row, count: p), nodes: communicator.nodes,
                localIndices: communicator.localIndices)
        default:
            let supported =
                kind == .broadcast ? "ring" : kind == .allToAll ? "pairwise or hierarchical" : "ring or hierarchical"
            throw CollectiveError.unsupportedAlgorithm(
                kind: kind.rawValue, algorithm: algorithm.rawValue, reason: "\(kind) supports \(supported)")
        }
    }

    /// A collective ready to run: its plan and one input per rank.
    public struct Prepared: Sendable {
        public let plan: CollectivePlan
        public let inputs: [Tensor]
        /// S in elements of the dtype.
        public let elementCount: Int
        public let algorithm: CollectiveAlgorithm
    }

    /// The plan and inputs of `kind` with nccl-tests size S = `sizeBytes` on `communicator`.
    ///
    /// `real` fills the inputs with small integers (rank r, element i: `(7i + 13r) % 17 - 8`, exact in any
    /// summation order), otherwise they are phantom. Throws when S is not a positive multiple of the dtype's
    /// size, when the algorithm does not fit the kind or the communicator, or when the root is not a rank.
    public static func prepare(
        _ kind: CollectiveKind, sizeBytes: Int, on communicator: Communicator,
        algorithm: CollectiveAlgorithm? = nil, dtype: DType = .bf16, op: ReduceOp = .sum, root: Int = 0,
        real: Bool = false
    ) throws -> Prepared {
        let elementSize = dtype.bytesPerElement
        try CollectiveError.require(
            sizeBytes > 0 && sizeBytes % elementSize == 0, "\(kind) size", "\(sizeBytes) bytes",
            "must be a positive multiple of \(elementSize) (\(dtype))")
        let elementCount = sizeBytes / elementSize
        let plan = try plan(
            kind, elementCount: elementCount, on: communicator, algorithm: algorithm, dtype: dtype, op: op, root: root)
        let inputs = try plan.programs.indices.map { rank in
            let count = plan.programs[rank].inputElementCount
            guard real else { return try Tensor(phantom: [count], dtype: dtype) }
            let values = (0..<count).map { Float((7 * $0 + 13 * rank) % 17 - 8) }
            return try Tensor(shape: [count], values: values, dtype: dtype)
        }
        return Prepared(
            plan: plan, inputs: inputs, elementCount: elementCount, algorithm: algorithm ?? kind.defaultAlgorithm)
    }

    /// Runs `kind` of nccl-tests size S = `sizeBytes` on `communicator` and drives the simulation until it
    /// has finished (from the driver, with no other process live); returns the time and bandwidths.
    /// See `prepare` for the inputs and the errors.
    public static func run(
        _ kind: CollectiveKind, sizeBytes: Int, on communicator: Communicator,
        algorithm: CollectiveAlgorithm? = nil, dtype: DType = .bf16, op: ReduceOp = .sum, root: Int = 0,
        real: Bool = false, tagBase: Int = 0
    ) throws -> CollectiveResult {
        let prepared = try prepare(
            kind, sizeBytes: sizeBytes, on: communicator, algorithm: algorithm, dtype: dtype, op: op, root: root,
            real: real)
        let runner = CollectiveRunner(communicator: communicator, tagBase: tagBase)
        let outcome = try runner.run(prepared.plan, inputs: prepared.inputs)
        return CollectiveResult(
            kind: kind, algorithm: prepared.algorithm, rankCount: communicator.size, sizeBytes: sizeBytes,
            elementCount: prepared.elementCount, dtype: dtype, time: outcome.time, outputs: outcome.outputs)
    }
}
