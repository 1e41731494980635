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
    }

    let costs: PipelineCosts
    /// The cost model of one micro-batch (model costs).
    let costModel: CostModel

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

    /// The kinds an expert-parallel copy charges itself, layer by layer; its EP layers charge the rest (gate,
    /// experts, shared experts, dispatch and combine).
    static let localKinds: [OpKind] = [.embedding, .attention, .denseFFN]

    /// Runs `kernels` one after the other on the compute SMs (model costs; nothing under unit costs).
    func run(_ kernels: [Kernel], on gpu: GPU) async throws {
        guard case .model = costs else { return }
        for kernel in kernels { try await gpu.compute.run(kernel) }
    }

    /// The kernels of `part` of layer `layer`'s local ops (`localKinds`), plus the embedding's on layer 0.
    func localKernels(_ part: Part, layer: Int, label: String) -> [Kernel] {
        kernels(part, layers: layer..<(layer + 1), label: label) { Self.localKinds.contains($0.kind) }
    }

    /// The kernels of `part` of the output head, if `layers` end at the model's last layer.
    func headKernels(_ part: Part, layers: Range<Int>, label: String) -> [Kernel] {
        guard let last = layers.last else { return [] }
        return kernels(part, layers: last..<(last + 1), label: label) { $0.kind == .head }
    }

    /// One BF16 kernel per op of the stage with FLOPs in this part (element-wise ops are left out, as the cost
    /// model leaves them out), of the ops `isIncluded` keeps.
    func kernels(
        _ part: Part, layers: Range<Int>, label: String, where isIncluded: (OpCost) -> Bool = { _ in true }
    ) -> [Kernel] {
        costModel.stageOps(layers: layers).filter(isIncluded).compactMap { op in
            let flops: Int
            switch part {
            case .forward: flops = op.forwardFLOPs
            case .backwardInput: flops = op.backwardInputFLOPs
            case .backwardWeight: flops = op.backwardWeightFLOPs
            }
            guard flops > 0 else { return nil }
            return Kernel(
                name: "\(label) \(part.rawValue) \(op.name)", flops: Double(flops), hbmBytes: op.forwardMemoryBytes)
        }
    }

    /// Charges AdamW over `parameterCount` values (model costs: a memory-bound kernel; unit costs: free).
    func chargeOptimizer(parameterCount: Int, on gpu: GPU) async throws {
        guard case .model = costs, parameterCount > 0 else { return }
        // The same kernel as data parallelism's: fp32 master and both moments (K = 12) read and written, the BF16
        // gradient read and the BF16 parameter copy written.
        try await gpu.compute.run(
            OpKernels.optimizerStep(
                elements: parameterCount,
                stateBytesPerElement: ModelStateMemory.optimizerBytesPerParameter(bf16Moments: false)))
    }
}
