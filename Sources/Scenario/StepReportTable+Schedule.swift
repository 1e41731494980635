import Foundation
import Parallelism
import SimCore

/// `show step`'s throughput lines (tokens per day, MFU at the BF16 and FP8 peaks), its schedule-phase table and
/// the `compare=` table.
extension StepReportTable {
    /// Tokens per day and MFU, when the run timed its ops with the cost model.
    static func throughputLines(_ step: StepReport) -> [String] {
        var lines: [String] = []
        if let perDay = step.tokensPerDay, let tokens = step.tokens {
            lines.append(
                "tokens per day \(count(perDay)) = \(count(Double(tokens))) per step / \(time(step.stepTime)) × "
                    + "86400 s")
        }
        guard let mfu = step.modelFLOPsUtilization, let flops = step.modelFLOPs,
            let peak = step.peakFLOPsPerSecondPerGPU
        else { return lines }
        let gpus = "\(step.gpus.count) GPUs"
        lines.append(
            "MFU \(percent(mfu)) (BF16-equivalent) = \(scaledFLOPs(flops))FLOP model FLOPs (F + B + W of every "
                + "micro-batch) / (\(gpus) × \(scaledFLOPs(peak))FLOP/s dense BF16 × \(time(step.stepTime)))")
        if let fp8MFU = step.fp8ModelFLOPsUtilization, let fp8 = step.fp8ModelFLOPs,
            let fp8Peak = step.fp8PeakFLOPsPerSecondPerGPU
        {
            lines.append(
                "MFU \(percent(fp8MFU)) (FP8 peak for FP8 GEMMs) = (\(scaledFLOPs(fp8))FLOP linear GEMMs / "
                    + "\(scaledFLOPs(fp8Peak))FLOP/s FP8 + \(scaledFLOPs(flops - fp8))FLOP attention core, head, gate "
                    + "/ \(scaledFLOPs(peak))FLOP/s BF16) / (\(gpus) × \(time(step.stepTime)))")
        }
        return lines
    }

    /// `964.69 G tokens`, `128 tokens`.
    static func count(_ tokens: Double) -> String {
        scaledFLOPs(tokens).trimmingCharacters(in: .whitespaces) + " tokens"
    }

    /// The schedule phases of the mean GPU and of the critical one (index `critical` in `step.gpus`).
    static func schedulePhaseLines(_ step: StepReport, critical: Int) -> [String] {
        guard let mean = step.meanSchedulePhases else { return [] }
        let gpu = step.gpus[critical]
        var table = TextTable([
            .init("schedule phase", .left), .init("mean GPU"), .init("%"), .init("critical (\(gpu.gpuName))"),
            .init("%"),
        ])
        func row(_ name: String, _ a: SimDuration, _ b: SimDuration) {
            table.add([name, time(a), share(a, of: step.stepTime), time(b), share(b, of: step.stepTime)])
        }
        for phase in SchedulePhaseBreakdown.Phase.allCases {
            row(phase.name, mean[phase], gpu.schedulePhases[phase])
        }
        row("step time", mean.total, gpu.schedulePhases.total)
        return ["schedule phases (executed ops' start and end; the critical GPU waited least at the step's end):"]
            + table.lines()
    }

    /// The run and its `compare=` runs side by side: step time, the mean GPU's bubble and exposed communication
    /// by kind, MFU and the fullest GPU's HBM peak.
    static func comparisonLines(_ step: StepReport, _ comparisons: [ScheduleComparison]) -> [String] {
        guard !comparisons.isEmpty else { return [] }
        var table = TextTable([
            .init("schedule", .left), .init("step time"), .init("vs run"), .init("bubble"), .init("ep exposed"),
            .init("pp exposed"), .init("dp exposed"), .init("MFU"), .init("MFU fp8"), .init("peak HBM"),
            .init("% of HBM"),
        ])
        let rows =
            [(step.scheduleName.map { "\($0) (this run)" } ?? "this run", step)]
            + comparisons.map { ($0.scheduleName, $0.step) }
        for (name, report) in rows {
            let mean = report.meanGPU ?? StepTimeBreakdown()
            let fullest = report.gpus.max { $0.peakBytes < $1.peakBytes }
            table.add([
                name, time(report.stepTime), String(format: "%.3f×", report.stepTime / step.stepTime),
                time(mean[.bubble]), time(mean[.epCommunication]), time(mean[.ppCommunication]),
                time(mean[.dpCommunication]), report.modelFLOPsUtilization.map(percent) ?? "-",
                report.fp8ModelFLOPsUtilization.map(percent) ?? "-", bytes(fullest?.peakBytes ?? 0),
                fraction(fullest?.peakFractionOfCapacity),
            ])
        }
        return ["the same layout, model and batch under other schedules (compare=, each on a fresh world):"]
            + table.lines()
    }
}
