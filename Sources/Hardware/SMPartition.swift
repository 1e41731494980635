import SimCore

/// A group of a GPU's SMs that runs kernels one after another; a GPU's compute and communication partitions
/// run concurrently.
public actor SMPartition: SimulatedActor {
    /// What the partition's SMs are reserved for.
    public enum Role: String, Sendable {
        case compute
        case comm
    }

    public nonisolated let simulation: Simulation
    /// The owning GPU's name.
    public nonisolated let gpuName: String
    public nonisolated let role: Role
    /// The GPU's spec, for the kernel-time formula.
    public nonisolated let spec: GPUSpec
    /// SMs in this partition.
    public private(set) var smCount: Int
    /// Kernels issued so far.
    public private(set) var kernelCount = 0
    /// How many times longer kernels take than the spec says (above 1 on a straggler GPU).
    public private(set) var slowdown = 1.0
    /// Total time kernels occupied the partition.
    public private(set) var busyTime = SimDuration.zero
    private var busyUntilNs: Int64 = 0
    private let track: TraceTrackID

    init(gpuName: String, role: Role, smCount: Int, spec: GPUSpec, in simulation: Simulation) {
        self.simulation = simulation
        self.gpuName = gpuName
        self.role = role
        self.spec = spec
        self.smCount = smCount
        self.track = simulation.trace.track(actor: gpuName, lane: role.rawValue)
    }

    func setSMCount(_ count: Int) { smCount = count }

    /// Stretches kernels issued from now on by `factor` (1 restores the spec's speed).
    func setSlowdown(_ factor: Double) { slowdown = factor }

    /// When the last kernel issued so far ends.
    public var busyUntil: SimInstant { SimInstant(nanosecondsSinceStart: busyUntilNs) }

    /// The busy time the partition has executed by `instant` (now or later, with nothing enqueued in between):
    /// `busyTime − max(0, busyUntil − instant)`.
    ///
    /// Exact because `enqueue` starts a kernel at `max(now, busyUntil)`: the work queued at any moment is one
    /// contiguous block ending at `busyUntil`, and an idle gap can only open before all of it (when a kernel is
    /// enqueued on an idle partition). So what is still ahead of `instant` is `busyUntil − instant`, and the
    /// compute-idle time of an interval is its length minus the difference of this value at its two ends.
    public func executedBusyTime(by instant: SimInstant) -> SimDuration {
        let aheadNs = max(0, busyUntilNs - instant.nanosecondsSinceStart)
        return SimDuration(nanoseconds: busyTime.nanoseconds - aheadNs)
    }

    /// How long `kernel` takes on this partition's SMs.
    public func duration(of kernel: Kernel) -> SimDuration {
        let time = spec.duration(of: kernel, onSMs: smCount)
        guard slowdown != 1 else { return time }
        let stretched = (Double(time.nanoseconds) * slowdown).rounded()
        return SimDuration(nanoseconds: stretched < 9.2e18 ? Int64(stretched) : .max)
    }

    /// The latest a kernel may end (about 11.6 days): far beyond any training step, far inside Int64 ns.
    public static let longestKernel = SimDuration.seconds(1_000_000)

    /// Queues `kernel` behind the ones issued before it and returns when it will end, without waiting.
    @discardableResult
    public func enqueue(_ kernel: Kernel) throws -> SimInstant {
        try kernel.validate()
        let startNs = max(simulation.executor.nowNs, busyUntilNs)
        let time = duration(of: kernel)
        guard time.nanoseconds <= Self.longestKernel.nanoseconds - startNs else {
            throw HardwareError.invalidParameter(
                name: "kernel '\(kernel.name)'", value: "\(kernel.flops) FLOPs, \(kernel.hbmBytes) bytes",
                reason: "would end after \(Self.longestKernel) of virtual time on \(gpuName) \(role.rawValue)")
        }
        busyUntilNs = startNs + time.nanoseconds
        kernelCount += 1
        busyTime = busyTime + time
        let trace = simulation.trace
        trace.beginSpan(track, named: kernel.name, startNs: startNs, endNs: busyUntilNs)
        trace.addArgument(TraceNames.flops, kernel.flops)
        trace.addArgument(TraceNames.bytes, Int64(kernel.hbmBytes))
        trace.addArgument(TraceNames.smCount, Int64(smCount))
        trace.endRecord()
        return busyUntil
    }

    /// Runs `kernel` after the kernels issued before it; returns when it ends.
    @discardableResult
    public func run(_ kernel: Kernel) async throws -> SimInstant {
        let end = try enqueue(kernel)
        try await simulation.clock.sleep(until: end)
        return end
    }
}
