import Hardware

extension TrainCommands {
    /// Queues data-parallel training with ZeRO (issue: ZeRO data parallel end to end).
    func queueDataParallel(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws {
        throw line.error("data-parallel training is not built yet", at: line.command)
    }
}
