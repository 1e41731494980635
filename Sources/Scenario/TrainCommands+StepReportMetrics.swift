import Parallelism
import SimCore

/// The step report's V3-scale metrics: tokens per day, MFU at the FP8 peak, schedule phases, HBM against the
/// capacity and the `compare=` runs.
extension TrainCommands {
    /// What `train.compare[S].*` reads of a compared run's last step: name, dimension, summary, value.
    static let comparisonMetrics: [(String, Dimension, String, @Sendable (StepReport) -> Double?)] = [
        ("step_time", .time, "step time", { Double($0.stepTime.nanoseconds) }),
        ("bubble", .time, "mean GPU's bubble", { $0.meanGPU.map { Double($0[.bubble].nanoseconds) } }),
        (
            "exposed_comm", .time, "mean GPU's exposed EP + PP communication",
            { $0.meanGPU.map { Double($0.exposedCommunication.nanoseconds) } }
        ),
        ("mfu", .number, "MFU (BF16-equivalent), a fraction", { $0.modelFLOPsUtilization }),
        ("hbm_peak", .bytes, "the fullest GPU's HBM peak", { TrainCommands.hbmPeak($0).map(Double.init) }),
    ]

    /// The most HBM any GPU held at once during the step.
    static func hbmPeak(_ step: StepReport) -> Int? { step.gpus.map(\.peakBytes).max() }

    /// Registers `train.tokens_per_day`, `train.mfu_fp8`, `train.phase[P]`, `train.critical_phase[P]`,
    /// `train.hbm_peak`, `train.hbm_peak_fraction` and `train.compare[S].*`.
    func registerStepReportMetrics() {
        session.register(
            Metric(
                "train.tokens_per_day", .number,
                "last step: global batch tokens / step time × 86400 s (cost-model runs)"
            ) { [unowned self] _ in lastRun { $0.steps.last?.tokensPerDay } })
        session.register(
            Metric(
                "train.mfu_fp8", .number,
                "last step's MFU with FP8 GEMM FLOPs at the FP8 peak and the rest at BF16 (FP8 runs), a fraction"
            ) { [unowned self] _ in lastRun { $0.steps.last?.fp8ModelFLOPsUtilization } })
        let phases = SchedulePhaseBreakdown.Phase.allCases
        let phaseNames = phases.map { [$0.metricName] }
        func phase(_ selectors: [String]) -> SchedulePhaseBreakdown.Phase? {
            phases.first { $0.metricName == selectors.first }
        }
        session.register(
            Metric(
                "train.phase[P]", .time,
                "last step, mean GPU: time in schedule phase P (warm_up, steady, cool_down, trailing_w, optimizer, "
                    + "bubble)", instances: { phaseNames }
            ) { [unowned self] selectors in
                guard let phase = phase(selectors) else { return nil }
                return lastRun { $0.steps.last?.meanSchedulePhases.map { Double($0[phase].nanoseconds) } }
            })
        session.register(
            Metric(
                "train.critical_phase[P]", .time, "last step, critical GPU (least wait at the end): time in phase P",
                instances: { phaseNames }
            ) { [unowned self] selectors in
                guard let phase = phase(selectors) else { return nil }
                return lastRun { run in
                    guard let step = run.steps.last, let index = step.slowestGPU else { return nil }
                    return Double(step.gpus[index].schedulePhases[phase].nanoseconds)
                }
            })
        session.register(
            Metric("train.hbm_peak", .bytes, "last step: the most HBM any GPU held at once") { [unowned self] _ in
                lastRun { $0.steps.last.flatMap(Self.hbmPeak).map(Double.init) }
            })
        session.register(
            Metric(
                "train.hbm_peak_fraction", .number, "last step: the fullest GPU's HBM peak / its capacity, a fraction"
            ) { [unowned self] _ in
                lastRun { run in run.steps.last?.gpus.compactMap(\.peakFractionOfCapacity).max() }
            })
        registerComparisonMetrics()
    }

    private func registerComparisonMetrics() {
        let names = Self.comparableSchedules.map(\.rawValue)
        for (name, dimension, summary, read) in Self.comparisonMetrics {
            session.register(
                Metric(
                    "train.compare[S].\(name)", dimension, "compare=S run of the last train: \(summary)",
                    instances: { [unowned self] in
                        lastRun { run in run.comparisons.compactMap { Self.key(of: $0, in: names) }.map { [$0] } } ?? []
                    }
                ) { [unowned self] selectors in
                    lastRun { run in
                        run.comparisons.first { Self.key(of: $0, in: names) == selectors.first }.flatMap {
                            read($0.step)
                        }
                    }
                })
        }
    }

    /// The `compare=` name (`1f1b`) of a compared run.
    private static func key(of comparison: ScheduleComparison, in names: [String]) -> String? {
        comparableSchedules.first { $0.description == comparison.scheduleName }?.rawValue
    }
}
