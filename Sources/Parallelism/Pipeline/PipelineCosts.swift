import Hardware
import MoEModel
import SimCore

/// Where a pipeline run's compute times come from.
public enum PipelineCosts: Sendable, Equatable {
    /// The given f, b, w (and fb) durations per chunk, communication free: the executed timeline must equal
    /// the `Schedules` analyser's.
    case unit(OpDurations)
    /// `CostModel` FLOPs and bytes of the stage's ops as kernels on the GPU's compute SMs, sends on the fabric.
    case model
}

/// The one place a stage worker's compute is timed: sleeps of the unit durations, or cost-model kernels.
struct StageCompute: Sendable {
    /// A part of a chunk's work, for costing.
    enum Part: String, Sendable {
        case forward = "F"
        case backwardInput = "B"
        case backwardWeight = "W"

        /// The FLOPs of this part of `op`.
        func flops(of op: OpCost) -> Int {
            switch self {
            case .forward: op.forwardFLOPs
            case .backwardInput: op.backwardInputFLOPs
            case .backwardWeight: op.backwardWeightFLOPs
            }
        }

        /// The FLOPs of this part of `op` that run at `precision.attentionCore`: the attention core, or all of
        /// them for an op kind kept in higher precision.
        func higherPrecisionFLOPs(of op: OpCost, _ precision: ComputePrecision) -> Int {
            if precision.higherPrecisionKinds.contains(op.kind) { return flops(of: op) }
            switch self {
            case .forward: return op.forwardAttentionCoreFLOPs
            case .backwardInput: return op.backwardInputAttentionCoreFLOPs
            case .backwardWeight: return 0
            }
        }
    }

    let costs: PipelineCosts
    /// The cost model of one micro-batch (model costs).
    let costModel: CostModel
    /// The tensor-core precision of each class of FLOPs.
    let precision: ComputePrecision
    /// AdamW state bytes per parameter of a shard: K = 12 (fp32 master and moments) or 8 with BF16 moments.
    let optimizerStateBytesPerParameter: Int
    /// Whether FP8 linear GEMMs run at `PublishedGEMMRates`' efficiencies (else at the datasheet peak).
    let appliesPublishedRates: Bool
    /// The kernels built so far, shared by every copy of this value (one run's workers).
    private let templates = KernelTemplates()

    /// Compute of `costs` for `costModel` (all BF16, fp32 AdamW moments and datasheet rates unless given).
    init(
        costs: PipelineCosts, costModel: CostModel, precision: ComputePrecision = .bf16,
        optimizerStateBytesPerParameter: Int = ModelStateMemory.optimizerBytesPerParameter(bf16Moments: false),
        appliesPublishedRates: Bool = false
    ) {
        self.costs = costs
        self.costModel = costModel
        self.precision = precision
        self.optimizerStateBytesPerParameter = optimizerStateBytesPerParameter
        self.appliesPublishedRates = appliesPublishedRates
    }

    /// Charges the compute time of `op` on `gpu`: one span of the unit duration, or the cost-model kernels of
    /// every part of the op's work in order (`parts` pairs each part with the layer range it runs).
    func charge(_ op: PipelineOp, parts: [(Part, Range<Int>)], on gpu: GPU) async throws {
        switch costs {
        case .unit(let durations):
            let clock = gpu.simulation.clock
            try await clock.sleep(until: clock.now + durations.duration(of: op))
        case .model:
            for (part, layers) in parts {
                for kernel in kernels(part, layers: layers, label: GanttChart.label(op)) {
                    try await gpu.compute.run(kernel)
                }
            }
        }
    }

    /// Which of a stage's ops a kernel list covers.
    enum OpSelection: Hashable, Sendable {
        /// Every op.
        case all
        /// The kinds an expert-parallel copy charges itself, layer by layer; its EP layers charge the rest
        /// (gate, experts, shared experts, dispatch and combine).
        case local
        /// The output head.
        case head

        func includes(_ op: OpCost) -> Bool {
            switch self {
            case .all: true
            case .local: [OpKind.embedding, .attention, .denseFFN].contains(op.kind)
            case .head: op.kind == .head
            }
        }
    }

    /// Runs `kernels` one after the other on the compute SMs (model costs; nothing under unit costs).
    func run(_ kernels: [Kernel], on gpu: GPU) async throws {
        guard case .model = costs else { return }
        for kernel in kernels { try await gpu.compute.run(kernel) }
    }

    /// The kernels of `part` of layer `layer`'s local ops (`OpSelection.local`), plus the embedding's on layer 0.
    func localKernels(_ part: Part, layer: Int, label: String) -> [Kernel] {
        kernels(part, layers: layer..<(layer + 1), label: label, of: .local)
    }

    /// The kernels of `part` of the output head, if `layers` end at the model's last layer.
    func headKernels(_ part: Part, layers: Range<Int>, label: String) -> [Kernel] {
        guard let last = layers.last else { return [] }
        return kernels(part, layers: last..<(last + 1), label: label, of: .head)
    }

    /// The kernels of `part` of the stage's ops in `selection`, named after `label` (the op): built once per
    /// run, part, layer range and selection, as `templateKernels` gives them.
    func kernels(_ part: Part, layers: Range<Int>, label: String, of selection: OpSelection = .all) -> [Kernel] {
        let key = KernelTemplates.Key(part: part, layers: layers, selection: selection)
        return templates.kernels(key) { templateKernels(part, layers: layers, of: selection) }.map { template in
            var kernel = template
            kernel.name = label + template.name
            return kernel
        }
    }

    /// The kernels of the ops of the stage with FLOPs in this part, of the ops in `selection` (element-wise
    /// ops are left out, as the cost model leaves them out), named from the part on (` F attention`): one
    /// kernel per op at `precision.linear` when its FLOPs run at one precision, else the linear GEMMs' kernel
    /// (every byte, the launch) and a fused stage with the higher-precision FLOPs (attention core, head, gate),
    /// as `OpKernels.kernels(_:_:name:precision:)`.
    private func templateKernels(_ part: Part, layers: Range<Int>, of selection: OpSelection) -> [Kernel] {
        costModel.stageOps(layers: layers).filter(selection.includes).flatMap { op -> [Kernel] in
            let flops = part.flops(of: op)
            guard flops > 0 else { return [] }
            let name = " \(part.rawValue) \(op.name)"
            let high = precision.linear == precision.attentionCore ? 0 : part.higherPrecisionFLOPs(of: op, precision)
            guard high < flops else {
                return [
                    Kernel(
                        name: name, flops: Double(flops), hbmBytes: op.forwardMemoryBytes,
                        precision: precision.attentionCore)
                ]
            }
            var linear = Kernel(
                name: name, flops: Double(flops - high), hbmBytes: op.forwardMemoryBytes, precision: precision.linear)
            if appliesPublishedRates, precision.linear == .fp8 {
                linear.efficiency = PublishedGEMMRates.efficiency(of: op)
            }
            guard high > 0 else { return [linear] }
            var core = Kernel(
                name: name + " core", flops: Double(high), hbmBytes: 0, precision: precision.attentionCore)
            core.launched = false
            return [linear, core]
        }
    }

    /// The F + B + W FLOPs of `ops` that run at `precision.linear` (the rest run at `precision.attentionCore`).
    static func linearFLOPs(of ops: [OpCost], precision: ComputePrecision) -> Int {
        ops.reduce(0) { total, op in
            total
                + [Part.forward, .backwardInput, .backwardWeight].reduce(0) {
                    $0 + $1.flops(of: op) - $1.higherPrecisionFLOPs(of: op, precision)
                }
        }
    }

    /// Charges AdamW over `parameterCount` values (model costs: a memory-bound kernel; unit costs: free); returns
    /// when the kernel occupied the compute SMs (nil: no kernel).
    @discardableResult
    func chargeOptimizer(parameterCount: Int, on gpu: GPU) async throws -> Range<SimInstant>? {
        guard case .model = costs, parameterCount > 0 else { return nil }
        // The same kernel as data parallelism's: fp32 master and both moments (K bytes) read and written, the BF16
        // gradient read and the BF16 parameter copy written.
        let kernel = OpKernels.optimizerStep(
            elements: parameterCount, stateBytesPerElement: optimizerStateBytesPerParameter)
        let duration = await gpu.compute.duration(of: kernel)
        let end = try await gpu.compute.run(kernel)
        return SimInstant(nanosecondsSinceStart: end.nanosecondsSinceStart - duration.nanoseconds)..<end
    }
}
