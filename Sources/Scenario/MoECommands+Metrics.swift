import Parallelism

extension MoECommands {
    /// Each metric after `moe.last.` / `moe[NAME].`: its name, dimension, summary and value.
    static let metricFields: [(String, Dimension, String, @Sendable (EPRunReport) -> Double?)] = [
        ("time", .time, "forward: first start to last end", { Double($0.time.nanoseconds) }),
        (
            "dispatch.time", .time, "dispatch payload (after the counts exchange)",
            {
                Double($0.dispatchTime.nanoseconds)
            }
        ),
        ("combine.time", .time, "combine, experts' end to weighted sum", { Double($0.combineTime.nanoseconds) }),
        (
            "dispatch.rdma_bw", .bandwidth, "DeepEP RDMA bandwidth: token-node pairs × row / dispatch time",
            {
                $0.dispatchRDMABytesPerSecond
            }
        ),
        (
            "dispatch.nvl_bw", .bandwidth, "DeepEP NVL bandwidth: tokens received × row / dispatch time",
            {
                $0.dispatchNVLBytesPerSecond
            }
        ),
        (
            "combine.rdma_bw", .bandwidth, "DeepEP RDMA bandwidth of the combine (BF16 rows)",
            {
                $0.combineRDMABytesPerSecond
            }
        ),
        (
            "combine.nvl_bw", .bandwidth, "DeepEP NVL bandwidth of the combine (BF16 rows)",
            {
                $0.combineNVLBytesPerSecond
            }
        ),
        ("waves", .number, "waves of the layer's plan (1 in serial and comet)", { Double($0.waveCount) }),
        (
            "balance", .number, "V4 balance rule: peak FLOP/s ÷ link B/s over 2·d (<= 1: comm can be hidden)",
            {
                $0.balanceRatio
            }
        ),
        ("ib_bytes", .bytes, "forward bytes over InfiniBand, all ranks", { Double($0.ibBytes) }),
        ("nvlink_bytes", .bytes, "forward bytes over NVLink, all ranks", { Double($0.nvlinkBytes) }),
        ("tokens.max", .number, "most distinct tokens one rank received", { Double($0.tokensMax) }),
        ("tokens.mean", .number, "mean distinct tokens a rank received", { $0.tokensMean }),
        (
            "backward.time", .time, "B and W of the layer (runs with backward)",
            {
                $0.backwardTime.map { Double($0.nanoseconds) }
            }
        ),
        (
            "backward.input_time", .time, "B alone: output gradients dispatched, experts' B, input gradients combined",
            {
                $0.backwardInputTime.map { Double($0.nanoseconds) }
            }
        ),
        (
            "max_error", .number, "real runs: max relative difference against the single-device layer",
            {
                $0.maxError
            }
        ),
    ]

    func registerMetrics() {
        for (field, dimension, summary, read) in Self.metricFields {
            session.register(
                Metric("moe.last.\(field)", dimension, summary + " (last moe run)") { [unowned self] _ in
                    reportOf(runs.last).flatMap(read)
                })
            session.register(
                Metric(
                    "moe[NAME].\(field)", dimension, summary + " (moe run name=NAME)",
                    instances: { [unowned self] in runs.compactMap(\.name).map { [$0] } }
                ) { [unowned self] selectors in
                    guard let name = selectors.first else { return nil }
                    return reportOf(runs.first { $0.name == name }).flatMap(read)
                })
        }
    }
}
