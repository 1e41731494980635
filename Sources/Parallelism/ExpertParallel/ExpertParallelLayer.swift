import Collectives
import Hardware
import MoEModel
import SimCore
import Tensors

/// One MoE layer across an EP group, one call per rank: every rank calls `forward(rank:…)` (and later
/// `backward(rank:…)`) concurrently from its own simulated process, with the same `tagBase`.
///
/// Forward: gate on the token's rank, a counts exchange, dispatch (NVLink inside a node; across nodes one IB
/// piece per token and node to the same-index GPU, which relays over NVLink), the rank's experts on its compute
/// SMs, combine on the reverse path, the weighted sum in the single-device layer's slot order, shared experts.
/// Real values are Float throughout, so outputs and gradients equal `MoELayer`'s; wire bytes follow
/// `EPWireFormat`.
public struct ExpertParallelLayer: Sendable {
    /// Knobs of the layer. The transport defaults (8 pieces per node, ≥ 128 tokens per piece, 2 in flight,
    /// combine window 16) have no published source: they are this model's choices, not DeepEP's `Config`.
    public struct Options: Sendable, Hashable {
        /// Every rank starts dispatch, expert compute and combine together (as DeepEP's tests time each kernel).
        public var synchronizePhases = false
        /// IB pieces per source and node at most.
        public var maxPiecesPerNode = 8
        /// Tokens per IB piece at least.
        public var minPieceTokens = 128
        /// IB pieces a sender keeps in flight per target node.
        public var piecesInFlight = 2
        /// Messages an expert rank keeps in flight while sending combine parts, piece by piece.
        public var relayWindow = 16
        /// FP8 dispatch with per-128 scales (else BF16).
        public var fp8Dispatch = true
        /// Phantom routing: the seed of the random gate.
        public var phantomSeed: UInt64 = 0
        /// Phantom routing: the fraction of tokens sent to the hot experts.
        public var skew = 0.0
        /// How communication overlaps the experts' compute (outputs and gradients do not depend on it).
        public var mode = EPMode.serial
        /// Waved mode: the number of waves, or the experts per wave (at most one; nil: DeepGEMM's heuristic).
        public var waves: Int?
        public var expertsPerWave: Int?
        /// Comet mode: the column blocks Linear-2 and the combine are cut into.
        public var cometColumnBlocks = 4
        /// The routed experts' weight format: sets the GEMM rate and the weight bytes read.
        public var expertPrecision = ExpertPrecision.bf16
        /// The shared experts' format (their GEMM rate; DeepSeek-V3 trains every linear layer in FP8).
        public var sharedExpertPrecision = ExpertPrecision.bf16
        /// FP8 expert GEMMs at DeepGEMM's published H800 figures where they exist, or at the datasheet peak.
        public var gemmRates = GEMMRates.published
        /// How phantom calls move their all-to-alls (real rows always travel as messages).
        public var transport = EPTransport.messages

        /// The defaults.
        public init() {}
    }

    /// The single-device layer whose numerics this one reproduces (router, experts, shared experts).
    public let layer: MoELayer
    /// The EP group and where the experts live.
    public let placement: ExpertPlacement
    /// Bytes per token on the wire.
    public let wire: EPWireFormat
    /// Width of a token row.
    public let hiddenSize: Int
    /// Intermediate width of each expert.
    public let expertWidth: Int
    /// The knobs.
    public let options: Options
    let exchange: EPExchange
    /// Where the ranks of `a2a=flows` calls join.
    let flowExchange: EPFlowExchange
    /// Phantom routings and layouts shared by the run's layers (nil: each call draws its own).
    let phantomCache: PhantomRoutingCache?
    /// Whether FP8 expert GEMMs run at `PublishedGEMMRates`' efficiencies (published rates on an H800 group).
    let appliesPublishedRates: Bool
    /// The layer's span names and its ranks' lanes in the trace, interned on first use.
    let traceNames: EPTraceNames

    /// The group's communicator.
    public var communicator: Communicator { placement.communicator }

    /// The layer `layer` (built from a config whose `expertGroupCount` is the group's node count when routing
    /// is node-limited) over `communicator`; throws naming the value that does not fit.
    public init(
        layer: MoELayer, hiddenSize: Int, expertWidth: Int, communicator: Communicator, options: Options = Options(),
        phantomCache: PhantomRoutingCache? = nil
    ) throws {
        let placement = try ExpertPlacement(communicator: communicator, expertCount: layer.router.expertCount)
        let router = layer.router
        guard router.topK >= 1, router.topK <= router.expertCount else {
            throw ExpertParallelError.invalid("topk", "\(router.topK)", "must be in 1...\(router.expertCount) experts")
        }
        if router.groupLimit < router.groupCount, router.groupCount != placement.nodeCount {
            throw ExpertParallelError.invalid(
                "expert groups", "\(router.groupCount)",
                "node-limited routing needs one group per node of the EP group (\(placement.nodeCount))")
        }
        guard (1...65_536).contains(expertWidth) else {
            throw ExpertParallelError.invalid("expert-hidden", "\(expertWidth)", "must be in 1...65536")
        }
        guard options.maxPiecesPerNode >= 1, options.minPieceTokens >= 1, options.piecesInFlight >= 1,
            options.relayWindow >= 1
        else {
            throw ExpertParallelError.invalid("pieces", "\(options.maxPiecesPerNode)", "piece settings must be >= 1")
        }
        try WavePlan.validate(
            waves: options.waves, expertsPerWave: options.expertsPerWave, localExperts: placement.expertsPerRank)
        guard (1...WavePlan.maxWaves).contains(options.cometColumnBlocks) else {
            throw ExpertParallelError.invalid(
                "comet-blocks", "\(options.cometColumnBlocks)", "must be in 1...\(WavePlan.maxWaves)")
        }
        self.layer = layer
        self.placement = placement
        self.wire = try EPWireFormat(hiddenSize: hiddenSize, fp8Dispatch: options.fp8Dispatch)
        self.hiddenSize = hiddenSize
        self.expertWidth = expertWidth
        self.options = options
        exchange = EPExchange(rankCount: communicator.size, in: communicator.cluster.simulation)
        flowExchange = EPFlowExchange(placement: placement, plans: phantomCache?.flowPlans ?? EPFlowPlans())
        self.phantomCache = phantomCache
        traceNames = EPTraceNames(
            prefix: Self.tracePrefix(of: layer), rankCount: communicator.size,
            trace: communicator.cluster.simulation.trace)
        appliesPublishedRates =
            options.gemmRates == .published && PublishedGEMMRates.applies(to: communicator.cluster.spec.gpu)
    }

    /// The most ranks an EP group may have (tags give each source rank 16 bits).
    public static let maxRanks = 4096

    /// Tags one layer call (forward and backward) uses from its tag base.
    public static var tagsPerCall: Int { EPLegs.tagSpan }

    /// Bytes of parameters each rank holds: its routed experts, every shared expert and the router, in `dtype`.
    public func parameterBytes(dtype: DType = .bf16) -> Int {
        let expert = 3 * hiddenSize * expertWidth
        let experts = placement.expertsPerRank + layer.sharedExperts.count
        return (experts * expert + hiddenSize * layer.router.expertCount) * dtype.bytesPerElement
    }

    /// Charges the rank's parameters on its GPU's HBM (routed experts on their GPU only).
    public func allocateParameters(rank: Int, dtype: DType = .bf16) async throws {
        try await communicator.gpu(rank: rank).allocate(parameterBytes(dtype: dtype), .parameters)
    }

    /// Frees what `allocateParameters(rank:dtype:)` charged.
    public func freeParameters(rank: Int, dtype: DType = .bf16) async throws {
        try await communicator.gpu(rank: rank).free(parameterBytes(dtype: dtype), .parameters)
    }

    /// Runs `kernel` on the rank's compute SMs; a kernel with nothing to do takes no time.
    func charge(_ kernel: Kernel, rank: Int) async throws {
        guard kernel.flops > 0 || kernel.hbmBytes > 0 else { return }
        try await communicator.gpu(rank: rank).compute.run(kernel)
    }

    /// Queues `kernel` on the rank's compute SMs without waiting; returns when it ends.
    func enqueue(_ kernel: Kernel, rank: Int) async throws -> SimInstant {
        let simulation = communicator.cluster.simulation
        guard kernel.flops > 0 || kernel.hbmBytes > 0 else { return simulation.now }
        return try await communicator.gpu(rank: rank).compute.enqueue(kernel)
    }

    /// The kernel of `rows` expert rows (forward, or input-gradient backward: the same FLOPs).
    func expertKernel(_ name: String, rows: Int, experts: Int) -> Kernel {
        let op = CostModel.swiGLUExpert(name: name, rows: rows, hiddenSize: hiddenSize, width: expertWidth)
        return Kernel(
            name: name, flops: Double(op.forwardFLOPs),
            hbmBytes: experts * op.parameterBytes + op.inputBytes + op.outputBytes)
    }

    /// The gate's kernel on `tokens` tokens.
    func gateKernel(tokens: Int) -> Kernel {
        Kernel.gemm(name: "gate", m: tokens, n: layer.router.expertCount, k: hiddenSize)
    }

    /// Waits for every rank at `phase` when phases are synchronised.
    func synchronize(_ key: Int, phase: Int) async {
        guard options.synchronizePhases else { return }
        await exchange.barrier(tagBase: key, phase: phase)
    }
}
