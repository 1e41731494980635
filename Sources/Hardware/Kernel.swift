/// The cost of one GPU kernel: the FLOPs it does and the HBM bytes it moves.
public struct Kernel: Sendable, Equatable {
    /// The tensor-core precision the FLOPs run at.
    public enum Precision: String, Sendable, CaseIterable {
        case bf16
        case fp8
        /// FP4 × FP4 (Blackwell); at the FP8 rate on a GPU without FP4 tensor cores.
        case fp4
    }

    /// Shown on the trace span.
    public var name: String
    /// Floating-point operations.
    public var flops: Double
    /// Bytes read plus written in HBM.
    public var hbmBytes: Int
    /// The tensor-core precision of the FLOPs.
    public var precision: Precision
    /// The fraction of peak throughput the kernel reaches, in (0, 1].
    public var efficiency: Double
    /// Whether the kernel pays the GPU's launch overhead (false: a later stage of a fused, persistent kernel).
    public var launched = true

    /// A kernel; `validate()` checks the numbers.
    public init(name: String, flops: Double, hbmBytes: Int, precision: Precision = .bf16, efficiency: Double = 1) {
        self.name = name
        self.flops = flops
        self.hbmBytes = hbmBytes
        self.precision = precision
        self.efficiency = efficiency
    }

    /// A GEMM of (m×k)·(k×n): 2mkn FLOPs, reading both inputs and writing the output once at `bytesPerElement`.
    public static func gemm(
        name: String = "gemm", m: Int, n: Int, k: Int, bytesPerElement: Int = 2, precision: Precision = .bf16,
        efficiency: Double = 1
    ) -> Kernel {
        Kernel(
            name: name, flops: 2 * Double(m) * Double(n) * Double(k),
            hbmBytes: (m * k + k * n + m * n) * bytesPerElement, precision: precision, efficiency: efficiency)
    }

    /// Throws `invalidParameter` naming a negative cost or an efficiency outside (0, 1].
    public func validate() throws {
        guard flops >= 0, flops.isFinite else {
            throw HardwareError.invalidParameter(
                name: "kernel '\(name)' flops", value: "\(flops)", reason: "must be >= 0")
        }
        guard hbmBytes >= 0 else {
            throw HardwareError.invalidParameter(
                name: "kernel '\(name)' hbmBytes", value: "\(hbmBytes)", reason: "must be >= 0")
        }
        guard efficiency > 0, efficiency <= 1 else {
            throw HardwareError.invalidParameter(
                name: "kernel '\(name)' efficiency", value: "\(efficiency)", reason: "must be in (0, 1]")
        }
    }
}
