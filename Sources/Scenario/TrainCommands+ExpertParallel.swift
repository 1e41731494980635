import Collectives
import Hardware
import Parallelism

/// `train … ep=N`: the composed PP × EP × DP run's groups, its EP keys and their checks.
extension TrainCommands {
    /// The process groups of the composed run: `ParallelLayout(pp, ep, dp / ep)` on the first PP × dp GPUs,
    /// one DP group per pipeline rank, and with ep > 1 its EP and expert-DP groups.
    func composedGroups(_ request: TrainRequest, line: CommandLine, cluster: Cluster, pipelineRanks: Int)
        throws(ScenarioError) -> (data: [Communicator], experts: PipelineExpertGroups?)
    {
        let dp = request.dataParallel
        let ep = request.expertParallel
        guard dp > 1 else { return ([], nil) }
        do {
            let layout = try ParallelLayout(
                pipelineStages: pipelineRanks, expertParallel: ep, dataParallelReplicas: dp / ep,
                gpuCount: pipelineRanks * dp, gpusPerNode: cluster.spec.gpusPerNode,
                expertCount: request.config.routedExpertCount)
            let data = try ParallelLayout.communicators(layout.dataGroups, on: cluster)
            return (data, try PipelineExpertGroups(layout: layout, on: cluster, options: request.expertOptions))
        } catch {
            throw line.error(String(describing: error), at: line.option("ep") ?? line.option("dp") ?? line.command)
        }
    }

    /// EP keys need ep > 1, `overlap=` a schedule with F&B cells, ep > 1 model costs and dp a multiple of ep;
    /// `comm-sms=` must leave compute SMs and needs the pipeline trainer.
    func checkExpertRequest(_ request: TrainRequest, line: CommandLine, cluster: Cluster) throws(ScenarioError) {
        let ep = request.expertParallel
        if let count = request.commSMCount, let token = line.option("comm-sms") {
            let smCount = cluster.spec.gpu.smCount
            guard count < smCount else {
                throw line.error(
                    "comm-sms=\(count) must leave compute SMs: 1...\(smCount - 1) of the \(smCount) SMs", at: token)
            }
            guard request.pipelineStages > 1 || request.scheduleName != nil || ep > 1 else {
                throw line.error("comm-sms= applies to pipeline (pp=) and expert-parallel (ep=) runs", at: token)
            }
        }
        if ep == 1, let key = (TrainRequest.expertKeys + ["overlap"]).first(where: { line.option($0) != nil }),
            let token = line.option(key)
        {
            throw line.error("\(key)= applies to expert-parallel runs (ep > 1)", at: token)
        }
        if let token = line.option("overlap"), !["dualpipe", "dualpipev"].contains(request.scheduleName ?? "") {
            throw line.error(
                "overlap= applies to schedule=dualpipe or dualpipev (their F&B cells pair two chunks)", at: token)
        }
        guard ep > 1 else { return }
        guard request.costs == .model else {
            throw line.error(
                "ep=\(ep) needs costs=model (the all-to-all runs on the fabric)",
                at: line.option("costs") ?? line.command)
        }
        if request.expertOptions.fp8Dispatch, request.config.hiddenSize % 128 != 0 {
            throw line.error(
                "dispatch=fp8 scales blocks of 128 values; hidden = \(request.config.hiddenSize) needs dispatch=bf16",
                at: line.option("dispatch") ?? line.command)
        }
        guard request.dataParallel % ep == 0 else {
            throw line.error(
                "dp=\(request.dataParallel) must be a multiple of ep=\(ep) (dp = ep × dp-replica)",
                at: line.option("dp") ?? line.option("ep") ?? line.command)
        }
    }

    /// ` (ep=N × dp-replica=R, DualPipe overlap on)` for the queued line, or nothing when ep = 1.
    func expertSummary(_ request: TrainRequest) -> String {
        let ep = request.expertParallel
        guard ep > 1 else { return "" }
        let overlap =
            ["dualpipe", "dualpipev"].contains(request.scheduleName ?? "")
            ? ", F&B overlap \(request.overlapsChunks ? "on" : "off")" : ""
        let dispatch = request.expertOptions.fp8Dispatch ? "fp8" : "bf16"
        let flows = request.expertOptions.transport == .flows ? ", all-to-alls as flows (a2a=flows)" : ""
        let once = request.emulatesReplicasOnce ? ", DP replicas emulated once (replicas=once)" : ""
        return " (ep=\(ep) × dp-replica=\(request.dataParallel / ep), \(dispatch) dispatch, "
            + "mode \(request.expertOptions.mode.rawValue)\(overlap)\(flows)\(once))"
    }

    /// What `show step` says of a run with `replicas=once`.
    static let replicasApproximation =
        "DP replicas emulated once (replicas=once): the schedule runs on the first replica of each EP group; "
        + "the other replicas' GPUs run only the mirror exchange and ZeRO-1, started when their twins' are, "
        + "and report their twins' steps"

    /// What `show step` says of a run with `a2a=flows`.
    static let flowsApproximation =
        "all-to-alls as bulk flows (a2a=flows): the same bytes per link, shared first come, first served among "
        + "themselves; pipeline and ZeRO traffic shares links with them only as flows too (cluster phantom-flows=on)"

    /// Node-limited routing needs one expert group per node of the EP group: a preset grouped for another EP
    /// size (DeepSeek-V3's 8 groups are EP64's 8 nodes) is regrouped over this run's nodes, same node limit.
    func regroupExperts(_ request: inout TrainRequest, line: CommandLine, cluster: Cluster) throws(ScenarioError) {
        let config = request.config
        let nodes = max(1, request.expertParallel / cluster.spec.gpusPerNode)
        guard request.expertParallel > 1, config.expertGroupCount > 1, config.expertGroupCount != nodes else { return }
        do {
            request.config = try config.nodeLimited(
                nodeCount: nodes, limit: config.expertGroupLimit ?? config.expertGroupCount)
        } catch {
            throw line.error(String(describing: error), at: line.option("ep") ?? line.command)
        }
    }
}
