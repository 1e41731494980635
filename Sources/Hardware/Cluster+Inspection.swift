import SimCore

extension Cluster {
    /// One link's name and statistics, as read between simulation steps.
    public struct LinkReport: Sendable {
        public let name: String
        public let bytesPerSecond: Double
        public let stats: LinkStats

        /// The fraction of `start..<end` the link was busy.
        public func utilisation(from start: SimInstant = .start, to end: SimInstant) -> Double {
            stats.utilisation(from: start, to: end)
        }
    }

    /// Every link's statistics in `links` order; call between steps, not from simulated code.
    public func linkReports() -> [LinkReport] {
        links.map { link in
            simulation.inspect(link) {
                LinkReport(name: link.name, bytesPerSecond: $0.bytesPerSecond, stats: $0.statistics)
            }
        }
    }

    /// The `count` links that carried the most bytes, ties in `links` order; call between steps.
    public func busiestLinks(_ count: Int) -> [LinkReport] {
        let reports = linkReports().enumerated().sorted {
            ($0.element.stats.bytes, -$0.offset) > ($1.element.stats.bytes, -$1.offset)
        }
        return reports.prefix(max(0, count)).map(\.element)
    }

    /// Every GPU's HBM accounting in GPU order; call between steps.
    public func memoryReports() -> [HBM] { gpus.map { gpu in simulation.inspect(gpu) { $0.hbm } } }
}
