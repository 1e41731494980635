import Hardware

extension TrainCommands {
    /// Queues pipeline-parallel training (issue: pipeline execution on the emulated GPUs).
    func queuePipeline(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws {
        throw line.error("pipeline training is not built yet", at: line.command)
    }
}
