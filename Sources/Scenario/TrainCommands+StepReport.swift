import Parallelism
import SimCore

/// `show step` and the step-accounting metrics: where the last train run's last step went, per GPU part.
extension TrainCommands {
    /// The metrics of `StepTimeBreakdown` parts: name, parts summed (mean GPU of the last step), summary.
    static let stepPartMetrics: [(String, [StepTimeBreakdown.Part], String)] = [
        (
            "train.exposed_comm", [.epCommunication, .ppCommunication],
            "last step, mean GPU: compute-idle time waiting on EP and PP communication"
        ),
        (
            "train.ep_comm", [.epCommunication],
            "last step, mean GPU: compute-idle time inside compute ops (EP all-to-all)"
        ),
        (
            "train.pp_comm", [.ppCommunication],
            "last step, mean GPU: compute-idle time waiting on pipeline messages already sent"
        ),
        (
            "train.dp_comm", [.dpCommunication],
            "last step, mean GPU: compute-idle time in the gradient exchange (DualPipe mirror sum, ZeRO collectives)"
        ),
        (
            "train.bubble", [.bubble],
            "last step, mean GPU: compute-idle time waiting for a producer not yet sent or for the slowest GPU"
        ),
    ]

    /// Registers `show step`, `train.exposed_comm|ep_comm|pp_comm|dp_comm|bubble` and `train.mfu`.
    func registerStepReport() {
        for (name, parts, summary) in Self.stepPartMetrics {
            session.register(
                Metric(name, .time, summary) { [unowned self] _ in
                    lastRun { run in
                        guard let step = run.steps.last else { return nil }
                        let durations = parts.map { part in step.phases.first { $0.name == part.phaseName }?.duration }
                        guard durations.allSatisfy({ $0 != nil }) else { return nil }
                        return Double(durations.reduce(Int64(0)) { $0 + ($1?.nanoseconds ?? 0) })
                    }
                })
        }
        session.register(
            Metric(
                "train.mfu", .number,
                "last step's model FLOPs utilisation as a fraction (0.41 = 41%): model FLOPs / (GPUs × dense BF16 "
                    + "peak × step time)"
            ) { [unowned self] _ in lastRun { $0.steps.last?.modelFLOPsUtilization } })
        session.registerShow(
            Command(
                "step", synopsis: "show step [step=N]",
                summary:
                    "the last train run's step report: time by part and by schedule phase, tokens per day, MFU, HBM",
                details: [
                    "parts (they add up to the step time): compute (compute SMs busy with F, B, W kernels);",
                    "ep/pp/dp communication (exposed): time the compute SMs sit idle waiting on it; bubble: idle",
                    "waiting for a producer that has not sent yet or for the slowest GPU; optimizer; remainder.",
                    "schedule phases (they add up too), from the executed ops' start and end: first forwards",
                    "(before the GPU's first backward), steady (to its last forward), backwards (cool-down),",
                    "trailing W (after its last backward), optimizer (the step's end: gradient exchange, ZeRO,",
                    "AdamW) and bubble (every gap between them), for the mean and the critical GPU.",
                    "tokens per day = global batch tokens / step time × 86400 s. MFU (BF16-equivalent) = model",
                    "FLOPs / (GPUs × dense BF16 peak × step); with FP8 GEMMs also MFU at the FP8 peak: (FP8 GEMM",
                    "FLOPs / FP8 peak + attention core, head and gate FLOPs / BF16 peak) / (GPUs × step).",
                    "HBM: each GPU's peak by kind and all kinds at once against its capacity. After",
                    "train … compare=1f1b,zb1p: the same layout under those schedules, side by side.",
                    "step=N: step N from 0 (default the last)",
                ],
                argumentKeys: ["step"]
            ) { [unowned self] line in try showStep(line) })
    }

    private func showStep(_ line: CommandLine) throws {
        try line.check(allowedKeys: ["step"], maxPositionals: 1)
        guard let steps = lastRun({ $0.steps }), !steps.isEmpty else {
            throw line.error("no train run has finished yet (train …, then run)", at: line.positionals[0])
        }
        let index = try line.integer("step", in: 0...(steps.count - 1), default: steps.count - 1)
        // compare= runs compare the last step.
        let comparisons = index == steps.count - 1 ? lastRun({ $0.comparisons }) ?? [] : []
        for text in StepReportTable.lines(steps[index], index: index, of: steps.count, comparisons: comparisons) {
            session.output(text)
        }
        var approximations = ClusterCommands.approximations(clusterCommands.spec).map { [$0] } ?? []
        if lastRun({ $0.pipeline?.usesFlows }) == true { approximations.append(TrainCommands.flowsApproximation) }
        if lastRun({ $0.pipeline?.emulatesReplicasOnce }) == true {
            approximations.append(TrainCommands.replicasApproximation)
        }
        for approximation in approximations {
            session.output("approximation (see docs/ARCHITECTURE.md for its measured error): " + approximation)
        }
    }
}
