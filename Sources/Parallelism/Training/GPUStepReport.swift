import Hardware

/// One GPU's share of a training step: its time breakdown and the most HBM it held per kind during the step.
public struct GPUStepReport: Sendable, Equatable {
    /// The GPU (`gpu9`).
    public var gpuName: String
    /// Its step time by part (adds up to the step time).
    public var breakdown: StepTimeBreakdown
    /// Peak bytes per `MemoryKind` during the step, indexed like `MemoryKind.allCases`.
    public var peakBytesByKind: [Int]

    /// A GPU's report.
    public init(gpuName: String, breakdown: StepTimeBreakdown, peakBytesByKind: [Int]) {
        self.gpuName = gpuName
        self.breakdown = breakdown
        self.peakBytesByKind = peakBytesByKind
    }

    /// The most bytes of `kind` held at once during the step.
    public func peakBytes(_ kind: MemoryKind) -> Int {
        let index = MemoryKind.allCases.firstIndex(of: kind) ?? 0
        return peakBytesByKind.indices.contains(index) ? peakBytesByKind[index] : 0
    }

    /// The peaks of `hbm`, per kind.
    public static func peaks(of hbm: HBM) -> [Int] { MemoryKind.allCases.map { hbm.peakBytes($0) } }
}
