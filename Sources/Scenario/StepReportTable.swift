import Foundation
import Hardware
import Parallelism
import SimCore

/// `show step`'s text: one step's time by part for the mean GPU and the slowest one, MFU, and HBM peaks per
/// kind per GPU.
enum StepReportTable {
    /// GPUs listed in the HBM table before the rest are summed up in one line.
    static let maxMemoryRows = 32
    static let memoryKinds: [(String, MemoryKind)] = [
        ("parameters", .parameters), ("gradients", .gradients), ("optimizer state", .optimizerState),
        ("activations", .activations),
    ]

    /// The lines for step `index` (from 0) of a run of `stepCount` steps; `comparisons` (the last step only):
    /// the same run under other schedules.
    static func lines(
        _ step: StepReport, index: Int, of stepCount: Int, comparisons: [ScheduleComparison] = []
    ) -> [String] {
        let loss = step.loss.map { ", loss " + Quantity.compactNumber(Double($0)) } ?? ""
        var lines = [
            "step \(index) of \(stepCount) (from 0): step time \(time(step.stepTime))\(loss)"
                + (step.gpus.isEmpty ? "" : ", \(step.gpus.count) GPUs")
                + (step.scheduleName.map { ", \($0)" } ?? "")
        ]
        guard let mean = step.meanGPU, let slowest = step.slowestGPU else {
            return lines + phaseTable(step) + ["per-GPU accounting, MFU and HBM by kind: pipeline train runs only"]
        }
        lines += throughputLines(step)
        if let overlap = step.zeroOverlap {
            lines.append(
                overlap
                    ? "ZeRO-1 overlapped (zero-overlap=on): each stage copy's reduce-scatter, AdamW and all-gather "
                        + "start after its last W, under the rest of the schedule; dp exposed is what sticks out"
                    : "ZeRO-1 after the schedule (zero-overlap=off): every copy's reduce-scatter, AdamW and "
                        + "all-gather follow the last op")
        }
        let slow = step.gpus[slowest]
        var table = TextTable([
            .init("part", .left), .init("mean GPU"), .init("%"), .init("slowest (\(slow.gpuName))"), .init("%"),
        ])
        func row(_ name: String, _ a: SimDuration, _ b: SimDuration) {
            table.add([name, time(a), share(a, of: step.stepTime), time(b), share(b, of: step.stepTime)])
        }
        for part in StepTimeBreakdown.Part.allCases {
            row(part.phaseName, mean[part], slow.breakdown[part])
        }
        row("step time", mean.total, slow.breakdown.total)
        row("exposed communication (ep + pp)", mean.exposedCommunication, slow.breakdown.exposedCommunication)
        lines += table.lines()
        lines += schedulePhaseLines(step, critical: slowest)
        let capacity = step.gpus.first.map { $0.capacityBytes > 0 ? "HBM \(bytes($0.capacityBytes)) each" : "" }
        let notes = [capacity ?? "", step.activations.map { "activations=\($0.rawValue)" } ?? ""].filter { !$0.isEmpty }
        lines.append(
            "HBM peak per GPU during the step\(notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))"):")
        lines += memoryTable(step.gpus)
        lines += comparisonLines(step, comparisons)
        return lines
    }

    /// The phases of a step without per-GPU accounting (the data-parallel trainer's).
    private static func phaseTable(_ step: StepReport) -> [String] {
        guard !step.phases.isEmpty else { return [] }
        var table = TextTable([.init("phase", .left), .init("time"), .init("%")])
        for phase in step.phases {
            table.add([phase.name, time(phase.duration), share(phase.duration, of: step.stepTime)])
        }
        return table.lines()
    }

    /// Per GPU its peak bytes by kind, its peak of all kinds at once and that peak's share of its HBM.
    private static func memoryTable(_ gpus: [GPUStepReport]) -> [String] {
        var table = TextTable(
            [.init("gpu", .left)] + memoryKinds.map { .init($0.0) } + [.init("peak"), .init("% of HBM")])
        for gpu in gpus.prefix(maxMemoryRows) {
            table.add(
                [gpu.gpuName] + memoryKinds.map { bytes(gpu.peakBytes($0.1)) }
                    + [bytes(gpu.peakBytes), fraction(gpu.peakFractionOfCapacity)])
        }
        if gpus.count > maxMemoryRows {
            let fullest = gpus.max { $0.peakBytes < $1.peakBytes }
            table.add(
                ["max of all \(gpus.count)"]
                    + memoryKinds.map { kind in
                        bytes(gpus.map { $0.peakBytes(kind.1) }.max() ?? 0)
                    } + [bytes(fullest?.peakBytes ?? 0), fraction(fullest?.peakFractionOfCapacity)])
        }
        return table.lines()
    }

    /// A fraction as a percentage with one decimal, `-` when unknown.
    static func fraction(_ value: Double?) -> String {
        value.map { String(format: "%.1f", 100 * $0) } ?? "-"
    }

    static func time(_ duration: SimDuration) -> String { Quantity.format(Double(duration.nanoseconds), .time) }

    static func bytes(_ count: Int) -> String { Quantity.format(Double(count), .bytes) }

    /// `part / total` in percent with one decimal.
    static func share(_ part: SimDuration, of total: SimDuration) -> String {
        total > .zero ? String(format: "%.1f", 100 * (part / total)) : "-"
    }

    /// A fraction as a percentage with four significant digits: `41.23%`, `0.0001234%`.
    static func percent(_ fraction: Double) -> String {
        String(format: "%.4g", 100 * fraction) + "%"
    }

    /// `1.234 G`, `989 T`: FLOPs with an SI prefix (then `FLOP` or `FLOP/s`).
    static func scaledFLOPs(_ value: Double) -> String {
        let prefixes: [(Double, String)] = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        guard let (scale, prefix) = prefixes.first(where: { value >= $0.0 }) else {
            return Quantity.compactNumber(value) + " "
        }
        return Quantity.compactNumber(value / scale) + " " + prefix
    }
}
