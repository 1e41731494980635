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

    /// One BF16 kernel per op of the stage with FLOPs in this part (element-wise ops are left out, as the cost
    /// model leaves them out).
    func kernels(_ part: Part, layers: Range<Int>, label: String) -> [Kernel] {
        costModel.stageOps(layers: layers).compactMap { op in
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
        // Reads and writes fp32 parameters, gradients and both moments: 32 bytes per value.
        try await gpu.compute.run(
            Kernel(name: "AdamW", flops: Double(10 * parameterCount), hbmBytes: 32 * parameterCount))
    }
}
