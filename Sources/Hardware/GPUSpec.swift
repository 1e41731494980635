import SimCore

/// The numbers that set a GPU's speed and capacity; start from a preset and override fields as needed.
public struct GPUSpec: Sendable, Equatable {
    /// The model name shown in reports ("H800").
    public var name: String
    /// Streaming multiprocessors on the chip.
    public var smCount: Int
    /// HBM capacity in bytes.
    public var hbmBytes: Int
    /// HBM bandwidth in bytes per second.
    public var hbmBytesPerSecond: Double
    /// Dense BF16 tensor-core throughput of the whole chip, FLOP/s.
    public var denseBF16FlopsPerSecond: Double
    /// Dense FP8 tensor-core throughput of the whole chip, FLOP/s.
    public var denseFP8FlopsPerSecond: Double
    /// Dense FP4 (FP4 × FP4) tensor-core throughput of the whole chip, FLOP/s; 0: no FP4 tensor cores (Hopper),
    /// where FP4 kernels run at the FP8 rate.
    public var denseFP4FlopsPerSecond: Double
    /// Achievable one-way NVLink bandwidth from the GPU into the NVSwitch (and out of it), bytes per second.
    public var nvlinkBytesPerSecond: Double
    /// InfiniBand NIC bandwidth per GPU, one way, bytes per second.
    public var nicBytesPerSecond: Double
    /// Bytes per second one communication SM can push.
    public var bytesPerSecondPerSM: Double
    /// Fixed cost added to every kernel.
    public var kernelLaunchOverhead: SimDuration

    /// A spec with every field given; `validate()` checks it.
    public init(
        name: String, smCount: Int, hbmBytes: Int, hbmBytesPerSecond: Double, denseBF16FlopsPerSecond: Double,
        denseFP8FlopsPerSecond: Double, denseFP4FlopsPerSecond: Double = 0, nvlinkBytesPerSecond: Double,
        nicBytesPerSecond: Double, bytesPerSecondPerSM: Double, kernelLaunchOverhead: SimDuration
    ) {
        self.name = name
        self.smCount = smCount
        self.hbmBytes = hbmBytes
        self.hbmBytesPerSecond = hbmBytesPerSecond
        self.denseBF16FlopsPerSecond = denseBF16FlopsPerSecond
        self.denseFP8FlopsPerSecond = denseFP8FlopsPerSecond
        self.denseFP4FlopsPerSecond = denseFP4FlopsPerSecond
        self.nvlinkBytesPerSecond = nvlinkBytesPerSecond
        self.nicBytesPerSecond = nicBytesPerSecond
        self.bytesPerSecondPerSM = bytesPerSecondPerSM
        self.kernelLaunchOverhead = kernelLaunchOverhead
    }

    /// The default number of SMs reserved for communication kernels (DeepSeek-V3: 20 of 132).
    public static let defaultCommSMCount = 20

    /// Per-SM push rate at which `defaultCommSMCount` SMs exactly saturate one NVLink port plus one NIC.
    public static func saturatingBytesPerSecondPerSM(nvlink: Double, nic: Double) -> Double {
        (nvlink + nic) / Double(defaultCommSMCount)
    }

    /// HBM capacity of 80 GB Hopper parts as nvidia-smi reports it: 81,559 MiB.
    public static let hopper80GBBytes = 81_559 * 1_048_576
    /// HBM capacity of the H200 as nvidia-smi reports it: 143,771 MiB.
    public static let h200Bytes = 143_771 * 1_048_576

    /// H800 SXM: 132 SMs, 80 GB (81,559 MiB as nvidia-smi reports) at 3.35 TB/s, ~989/1979 dense BF16/FP8
    /// TFLOP/s, ~160 GB/s NVLink achieved one way, 50 GB/s ConnectX-7.
    public static let h800 = GPUSpec.hopper(
        name: "H800", hbmBytes: hopper80GBBytes, hbmBytesPerSecond: 3.35e12, nvlink: 160e9)
    /// H100 SXM: as H800 but 900 GB/s NVLink (taken as 360 GB/s achieved one way, the H800's 80 % of nominal).
    public static let h100 = GPUSpec.hopper(
        name: "H100", hbmBytes: hopper80GBBytes, hbmBytesPerSecond: 3.35e12, nvlink: 360e9)
    /// H200 SXM: H100 with 141 GB (143,771 MiB as nvidia-smi reports) at 4.8 TB/s.
    public static let h200 = GPUSpec.hopper(
        name: "H200", hbmBytes: h200Bytes, hbmBytesPerSecond: 4.8e12, nvlink: 360e9)

    /// B200 (HGX/DGX B200, NVIDIA datasheet): 148 SMs, 180 GB HBM3e at 8 TB/s, 2.25/4.5 PFLOP/s dense BF16/FP8
    /// (9 dense FP4), NVLink 5 at 1.8 TB/s both ways (taken as 720 GB/s achieved one way, 80 % of 900), 400 Gb/s
    /// ConnectX-7. Sources in docs/ARCHITECTURE.md ("Waved-EP").
    public static let b200 = GPUSpec(
        name: "B200", smCount: 148, hbmBytes: 180_000_000_000, hbmBytesPerSecond: 8e12,
        denseBF16FlopsPerSecond: 2.25e15, denseFP8FlopsPerSecond: 4.5e15, denseFP4FlopsPerSecond: 9e15,
        nvlinkBytesPerSecond: 720e9,
        nicBytesPerSecond: 50e9, bytesPerSecondPerSM: saturatingBytesPerSecondPerSM(nvlink: 720e9, nic: 50e9),
        kernelLaunchOverhead: .microseconds(4))

    /// The presets by lower-case name, in a fixed order.
    public static let presets: [(name: String, spec: GPUSpec)] = [
        ("h800", .h800), ("h100", .h100), ("h200", .h200), ("b200", .b200),
    ]

    /// The preset called `name` (case-insensitive), or an error listing the known ones.
    public static func preset(named name: String) throws -> GPUSpec {
        guard let match = presets.first(where: { $0.name == name.lowercased() }) else {
            throw HardwareError.invalidParameter(
                name: "gpu preset", value: "'\(name)'", reason: "known: \(presets.map(\.name).joined(separator: ", "))")
        }
        return match.spec
    }

    private static func hopper(name: String, hbmBytes: Int, hbmBytesPerSecond: Double, nvlink: Double) -> GPUSpec {
        GPUSpec(
            name: name, smCount: 132, hbmBytes: hbmBytes, hbmBytesPerSecond: hbmBytesPerSecond,
            denseBF16FlopsPerSecond: 989e12, denseFP8FlopsPerSecond: 1979e12, nvlinkBytesPerSecond: nvlink,
            nicBytesPerSecond: 50e9, bytesPerSecondPerSM: saturatingBytesPerSecondPerSM(nvlink: nvlink, nic: 50e9),
            kernelLaunchOverhead: .microseconds(4))
    }

    /// Throws `invalidParameter` naming the first field that cannot describe a GPU.
    public func validate() throws {
        guard smCount >= 2 else {
            throw HardwareError.invalidParameter(
                name: "smCount", value: "\(smCount)", reason: "needs at least 2 (one compute, one communication)")
        }
        guard hbmBytes >= 0 else {
            throw HardwareError.invalidParameter(name: "hbmBytes", value: "\(hbmBytes)", reason: "must not be negative")
        }
        try HardwareError.requireRate(hbmBytesPerSecond, "hbmBytesPerSecond")
        try HardwareError.requirePositive(denseBF16FlopsPerSecond, "denseBF16FlopsPerSecond")
        try HardwareError.requirePositive(denseFP8FlopsPerSecond, "denseFP8FlopsPerSecond")
        guard denseFP4FlopsPerSecond >= 0, denseFP4FlopsPerSecond.isFinite else {
            throw HardwareError.invalidParameter(
                name: "denseFP4FlopsPerSecond", value: "\(denseFP4FlopsPerSecond)", reason: "must be >= 0 (0: no FP4)")
        }
        try HardwareError.requireRate(nvlinkBytesPerSecond, "nvlinkBytesPerSecond")
        try HardwareError.requireRate(nicBytesPerSecond, "nicBytesPerSecond")
        try HardwareError.requireRate(bytesPerSecondPerSM, "bytesPerSecondPerSM")
        try HardwareError.requireNonNegative(kernelLaunchOverhead.nanoseconds, "kernelLaunchOverhead")
    }

    /// Dense throughput of one SM at `precision`, FLOP/s.
    public func flopsPerSecondPerSM(_ precision: Kernel.Precision) -> Double {
        switch precision {
        case .bf16: denseBF16FlopsPerSecond / Double(smCount)
        case .fp8: denseFP8FlopsPerSecond / Double(smCount)
        case .fp4: (denseFP4FlopsPerSecond > 0 ? denseFP4FlopsPerSecond : denseFP8FlopsPerSecond) / Double(smCount)
        }
    }

    /// How long `kernel` runs on `smCount` SMs:
    /// `max(flops / (SMs · peakPerSM · efficiency), bytes / HBM bandwidth) + launch overhead` (none for a stage
    /// of a fused kernel).
    public func duration(of kernel: Kernel, onSMs smCount: Int) -> SimDuration {
        let computeSeconds =
            kernel.flops / (Double(smCount) * flopsPerSecondPerSM(kernel.precision) * kernel.efficiency)
        let memorySeconds = Double(kernel.hbmBytes) / hbmBytesPerSecond
        let body = SimDuration.rounded(seconds: max(computeSeconds, memorySeconds)).nanoseconds
        let launch = kernel.launched ? kernelLaunchOverhead.nanoseconds : 0
        let (total, overflow) = body.addingReportingOverflow(launch)
        return SimDuration(nanoseconds: overflow ? .max : total)
    }
}
