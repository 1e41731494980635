import Hardware

extension TrainCommands {
    /// `train.dp_bytes`, `train.parameters` and the per-kind HBM metrics `gpu[N].hbm.parameters|gradients|
    /// optimizer|activations`.
    func registerDataParallelMetrics() {
        session.register(
            Metric(
                "train.dp_bytes", .bytes, "bytes one rank sent in data-parallel collectives in the last step"
            ) { [unowned self] _ in lastRun { $0.dataParallelBytes.map(Double.init) } })
        session.register(
            Metric("train.parameters", .number, "Ψ: parameters of the last run's model") { [unowned self] _ in
                lastRun { $0.parameterCount.map(Double.init) }
            })
        for (metric, phase, summary) in Self.phaseMetrics {
            session.register(
                Metric(metric, .time, summary) { [unowned self] _ in
                    lastRun { run in
                        run.steps.last?.phases.first { $0.name == phase }.map { Double($0.duration.nanoseconds) }
                    }
                })
        }
        for (name, kind) in Self.memoryKindMetrics {
            session.register(
                Metric(
                    "gpu[N].hbm.\(name)", .bytes, "most HBM bytes of \(kind.rawValue) held at once",
                    instances: { [unowned self] in
                        (clusterCommands.cluster?.gpus.indices ?? 0..<0).map { [String($0)] }
                    }
                ) { [unowned self] selectors in
                    guard let cluster = clusterCommands.cluster, let index = selectors.first.flatMap({ Int($0) }),
                        let report = try? cluster.gpuReport(index)
                    else { return nil }
                    return Double(report.hbm.peakBytes(kind))
                })
        }
    }

    /// The step-breakdown metrics: metric name, `StepReport` phase name, summary.
    static let phaseMetrics = [
        ("train.compute_time", "compute", "last step: forward and backward kernel time on a GPU's compute SMs"),
        (
            "train.dp_comm_time", "dp communication (exposed)",
            "last step: DP communication not hidden behind compute (step − compute − optimizer)"
        ),
        ("train.optimizer_time", "optimizer", "last step: the AdamW kernel's time"),
    ]

    /// Metric names of the memory kinds a training run charges.
    static let memoryKindMetrics: [(String, MemoryKind)] = [
        ("parameters", .parameters), ("gradients", .gradients), ("optimizer", .optimizerState),
        ("activations", .activations),
    ]
}
