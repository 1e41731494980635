import Hardware

/// The FLOPs of an EP layer's weight-gradient (W) work by tensor-core precision: the routed experts' at their
/// `expertPrecision`, the shared experts' at `sharedExpertPrecision`, the router's in BF16 (DeepSeek-V3 keeps
/// the gate in higher precision). Layers' work adds up before it is charged as one fused kernel.
public struct EPWeightWork: Sendable, Equatable {
    /// FLOPs per precision, indexed like `Kernel.Precision.allCases`.
    private var flops = [Double](repeating: 0, count: Kernel.Precision.allCases.count)
    /// Per precision: Σ FLOPs / efficiency, the FLOPs the work is worth at the peak rate.
    private var peakEquivalentFLOPs = [Double](repeating: 0, count: Kernel.Precision.allCases.count)

    /// No work.
    public init() {}

    /// `flops` FLOPs at `precision`, run at `efficiency` of its peak.
    public init(_ flops: Double, at precision: Kernel.Precision, efficiency: Double = 1) {
        add(flops, at: precision, efficiency: efficiency)
    }

    /// The FLOPs at `precision`.
    public subscript(precision: Kernel.Precision) -> Double {
        flops[Kernel.Precision.allCases.firstIndex(of: precision) ?? 0]
    }

    /// Every FLOP of the work.
    public var total: Double { flops.reduce(0, +) }

    /// Adds `amount` FLOPs at `precision`, run at `efficiency` of its peak.
    public mutating func add(_ amount: Double, at precision: Kernel.Precision, efficiency: Double = 1) {
        let index = Kernel.Precision.allCases.firstIndex(of: precision) ?? 0
        flops[index] += amount
        peakEquivalentFLOPs[index] += amount / efficiency
    }

    /// The sum of two works.
    public static func + (lhs: EPWeightWork, rhs: EPWeightWork) -> EPWeightWork {
        var sum = lhs
        for (index, value) in rhs.flops.enumerated() { sum.flops[index] += value }
        for (index, value) in rhs.peakEquivalentFLOPs.enumerated() { sum.peakEquivalentFLOPs[index] += value }
        return sum
    }

    /// The work as kernels named `name` (no HBM bytes, as the W work has always been charged): one per
    /// precision with FLOPs, in `Kernel.Precision` order, each at its FLOP-weighted efficiency Σ f / Σ (f / e);
    /// after the first, stages of one fused launch.
    public func kernels(name: String) -> [Kernel] {
        var result: [Kernel] = []
        for (index, precision) in Kernel.Precision.allCases.enumerated() where flops[index] > 0 {
            var kernel = Kernel(
                name: result.isEmpty ? name : "\(name) \(precision.rawValue)", flops: flops[index], hbmBytes: 0,
                precision: precision, efficiency: flops[index] / peakEquivalentFLOPs[index])
            kernel.launched = result.isEmpty
            result.append(kernel)
        }
        return result
    }
}
