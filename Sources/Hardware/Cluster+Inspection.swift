import SimCore

extension Cluster {
    /// One link's name and statistics, as read between simulation steps.
    public struct LinkReport: Sendable {
        public let name: String
        public let bytesPerSecond: Double
        /// The chunks it serialised.
        public let stats: LinkStats
        /// The bulk flows booked on it (`Cluster.bookFlow`).
        public let flowStats: LinkStats

        /// Bytes of chunks and flows.
        public var bytes: Int { stats.bytes + flowStats.bytes }

        /// The fraction of `.start..<end` the link was busy with chunks or flows (at most 1: the two are modelled
        /// apart and may overlap), for `end` no earlier than the simulation's time when the report was read.
        public func utilisation(to end: SimInstant) -> Double {
            min(1, stats.utilisation(to: end) + flowStats.utilisation(to: end))
        }
    }

    /// Every link's statistics in `links` order; call between steps, not from simulated code.
    public func linkReports() -> [LinkReport] { links.map(report(of:)) }

    /// The statistics of the link called `name` (`leaf3.down7`); call between steps.
    public func linkReport(named name: String) throws -> LinkReport { report(of: try link(named: name)) }

    private func report(of link: Link) -> LinkReport {
        simulation.inspect(link) {
            LinkReport(
                name: link.name, bytesPerSecond: $0.bytesPerSecond, stats: $0.statistics, flowStats: $0.flowStatistics)
        }
    }

    /// The `count` links that carried the most bytes, ties in `links` order; call between steps.
    public func busiestLinks(_ count: Int) -> [LinkReport] {
        let reports = linkReports().enumerated().sorted {
            ($0.element.bytes, -$0.offset) > ($1.element.bytes, -$1.offset)
        }
        return reports.prefix(max(0, count)).map(\.element)
    }

    /// One GPU's partitions and memory, as read between simulation steps.
    public struct GPUReport: Sendable {
        public let name: String
        public let spec: GPUSpec
        public let computeSMCount: Int
        public let commSMCount: Int
        /// Kernels issued on the compute and comm partitions.
        public let computeKernelCount: Int
        public let commKernelCount: Int
        /// Time the compute and comm partitions spent running kernels.
        public let computeBusyTime: SimDuration
        public let commBusyTime: SimDuration
        public let hbm: HBM
    }

    /// The state of GPU `index`; call between steps.
    public func gpuReport(_ index: Int) throws -> GPUReport {
        let gpu = try gpu(index)
        let compute = simulation.inspect(gpu.compute) { ($0.smCount, $0.kernelCount, $0.busyTime) }
        let comm = simulation.inspect(gpu.comm) { ($0.smCount, $0.kernelCount, $0.busyTime) }
        return GPUReport(
            name: gpu.name, spec: gpu.spec, computeSMCount: compute.0, commSMCount: comm.0,
            computeKernelCount: compute.1, commKernelCount: comm.1, computeBusyTime: compute.2, commBusyTime: comm.2,
            hbm: simulation.inspect(gpu) { $0.hbm })
    }

    /// Every GPU's HBM accounting in GPU order; call between steps.
    public func memoryReports() -> [HBM] { gpus.map { gpu in simulation.inspect(gpu) { $0.hbm } } }
}
