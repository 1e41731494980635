import Hardware
import Parallelism
import SimCore

/// The pipeline `train.*` metrics: the executed timeline of the last run's last step, and activation peaks.
extension TrainCommands {
    func registerPipelineMetrics() {
        let unitNote = "time units under costs=unit, µs under costs=model"
        session.register(
            Metric("train.makespan", .number, "last step's executed pipeline makespan, \(unitNote)") {
                [unowned self] _ in
                lastTimeline { $0.makespan.nanoseconds }
            })
        session.register(
            Metric("train.bubble_fraction", .number, "last step's largest per-rank idle time / makespan") {
                [unowned self] _ in
                lastRun { $0.pipeline?.report.steps.last?.timeline.bubbleFraction }
            })
        session.register(
            Metric(
                "train.idle[r]", .number, "pipeline rank r's idle time in the last step, \(unitNote)",
                instances: { [unowned self] in rankInstances() }
            ) { [unowned self] selectors in
                guard let rank = selectors.first.flatMap({ Int($0) }) else { return nil }
                return lastTimeline { $0.idleTime.indices.contains(rank) ? $0.idleTime[rank].nanoseconds : nil }
            })
        session.register(
            Metric(
                "train.activation_peak[r]", .bytes, "most activation bytes pipeline rank r's HBM held at once",
                instances: { [unowned self] in rankInstances() }
            ) { [unowned self] selectors in
                guard let rank = selectors.first.flatMap({ Int($0) }) else { return nil }
                return lastRun { run in
                    run.pipeline.flatMap { summary in
                        summary.report.peakActivationBytes.indices.contains(rank)
                            ? Double(summary.report.peakActivationBytes[rank]) : nil
                    }
                }
            })
        session.register(
            Metric(
                "train.activation_per_mb[r]", .bytes,
                "activation bytes one micro-batch holds on pipeline rank r's first stage",
                instances: { [unowned self] in rankInstances() }
            ) { [unowned self] selectors in
                guard let rank = selectors.first.flatMap({ Int($0) }) else { return nil }
                return lastRun { run in
                    run.pipeline.flatMap { summary in
                        summary.report.activationBytesPerMicroBatch.indices.contains(rank)
                            ? summary.report.activationBytesPerMicroBatch[rank].first.map(Double.init) : nil
                    }
                }
            })
        session.register(
            Metric(
                "train.reference_loss[i]", .number,
                "the reference trainer's mean loss of step i on the same micro-batches (real pipeline runs)",
                instances: { [unowned self] in
                    (0..<(lastRun { $0.referenceLosses?.count } ?? 0)).map { [String($0)] }
                }
            ) { [unowned self] selectors in
                guard let index = selectors.first.flatMap({ Int($0) }) else { return nil }
                return lastRun { run in
                    run.referenceLosses.flatMap { $0.indices.contains(index) ? Double($0[index]) : nil }
                }
            })
    }

    /// A duration read from the last pipeline step's executed timeline, in the run's reporting unit.
    private func lastTimeline(_ read: @escaping @Sendable (ScheduleAnalysis) -> Int64?) -> Double? {
        lastRun { run in
            guard let summary = run.pipeline, let timeline = summary.report.steps.last?.timeline,
                let nanoseconds = read(timeline)
            else { return nil }
            return Double(nanoseconds) / summary.nanosecondsPerUnit
        }
    }

    private func rankInstances() -> [[String]] {
        (0..<(lastRun { $0.pipeline?.report.peakActivationBytes.count } ?? 0)).map { [String($0)] }
    }
}
