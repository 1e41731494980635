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
                summary: "the last train run's step report: time by part, mean and slowest GPU, MFU, HBM by kind",
                details: [
                    "parts (they add up to the step time): compute (compute SMs busy with F, B, W kernels);",
                    "ep/pp/dp communication (exposed): time the compute SMs sit idle waiting on it; bubble: idle",
                    "waiting for a producer that has not sent yet or for the slowest GPU; optimizer; remainder",
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
        for text in StepReportTable.lines(steps[index], index: index, of: steps.count) { session.output(text) }
    }
}
