import Hardware

/// One GPU's share of a training step: its time breakdown and the most HBM it held per kind during the step.
public struct GPUStepReport: Sendable, Equatable {
    /// The GPU (`gpu9`).
    public var gpuName: String
    /// Its step time by part (adds up to the step time).
    public var breakdown: StepTimeBreakdown
    /// Peak bytes per `MemoryKind` during the step, indexed like `MemoryKind.allCases`.
    public var peakBytesByKind: [Int]
    /// Peak bytes of all kinds at once during the step (at most the sum of the kinds' peaks).
    public var peakBytes: Int
    /// The GPU's HBM capacity (0 if not known).
    public var capacityBytes: Int
    /// Its step time by schedule phase (adds up to the step time; all bubble if not measured).
    public var schedulePhases: SchedulePhaseBreakdown

    /// A GPU's report.
    public init(
        gpuName: String, breakdown: StepTimeBreakdown, peakBytesByKind: [Int], peakBytes: Int = 0,
        capacityBytes: Int = 0, schedulePhases: SchedulePhaseBreakdown = SchedulePhaseBreakdown()
    ) {
        self.gpuName = gpuName
        self.breakdown = breakdown
        self.peakBytesByKind = peakBytesByKind
        self.peakBytes = peakBytes
        self.capacityBytes = capacityBytes
        self.schedulePhases = schedulePhases
    }

    /// `peakBytes` as a fraction of the capacity (nil if the capacity is not known).
    public var peakFractionOfCapacity: Double? {
        capacityBytes > 0 ? Double(peakBytes) / Double(capacityBytes) : nil
    }

    /// The most bytes of `kind` held at once during the step.
    public func peakBytes(_ kind: MemoryKind) -> Int {
        let index = MemoryKind.allCases.firstIndex(of: kind) ?? 0
        return peakBytesByKind.indices.contains(index) ? peakBytesByKind[index] : 0
    }

    /// The peaks of `hbm`, per kind.
    public static func peaks(of hbm: HBM) -> [Int] { MemoryKind.allCases.map { hbm.peakBytes($0) } }
}
