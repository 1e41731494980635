import Parallelism
import SimCore
import Testing

@testable import Scenario

/// Issue 16 in the suite: a reduced DeepSeek-V3 step (V3 shapes, 4 layers, PP4 × EP4 on 16 GPUs, DualPipe, phantom, coarse chunks) whose
/// parts add up to its step time on every GPU and whose trace is the same on a rerun, and the coarse-chunk
/// approximation (`cluster min-chunk=8MiB`) against the full emulation.
@Suite(.serialized) struct DeepSeekV3StepTests {
    static let train = "train model=dsv3-mini layers=4 pp=4 dp=4 ep=4 schedule=dualpipe microbatches=8 phantom"
    /// The bound docs/ARCHITECTURE.md states for the coarse-chunk approximation's step-time error.
    static let chunkApproximationBound = 0.03
    /// The bound docs/ARCHITECTURE.md states for the flow-level all-to-all's (`a2a=flows`) step-time error.
    static let flowApproximationBound = 0.03
    /// The bound it states with every phantom message as a flow too (`cluster phantom-flows=on`).
    static let phantomFlowsBound = 0.05

    /// The bound it states for emulating DP replicas once (`replicas=once`) against emulating them all.
    static let replicasBound = 0.02
    /// A V3-shaped step whose EP groups have two DP replicas on different nodes (PP2 × EP4 × DP_replica 2 on
    /// 4 nodes of 4 GPUs), for `replicas=once`.
    static let replicatedTrain =
        "train model=dsv3-mini layers=4 pp=2 dp=8 ep=4 schedule=dualpipe microbatches=4 phantom"

    /// Runs the reduced step (or `trainLine`) on a cluster built by `cluster`; its last step's report, the trace
    /// hash, the events, the printed lines and the ops the workers ran.
    static func run(cluster: String, trainArguments: String = "", trainLine: String = train) throws -> Run {
        var printed: [String] = []
        let session = ScenarioSession(seed: 0, output: { printed.append($0) })
        for line in [cluster, trainLine + trainArguments, "run", "show step"] {
            #expect(session.execute(line) == .done, "\(line): \(printed.last ?? "")")
        }
        let commands = try #require(session.component(TrainCommands.self))
        let report = try #require(commands.lastRun { $0.steps.last })
        return (
            report, session.simulation.trace.hash, session.simulation.eventCount, printed, session.simulation.work.done
        )
    }

    @Test("a reduced dsv3 step: every GPU's parts add up to the step time; a rerun has the same trace hash")
    func reducedStepAddsUpAndReruns() throws {
        let first = try Self.run(cluster: "cluster nodes=2 min-chunk=8MiB")
        let report = first.report
        #expect(report.gpus.count == 16)
        #expect(report.stepTime > .zero)
        for (index, gpu) in report.gpus.enumerated() {
            #expect(gpu.breakdown[.remainder] == .zero, "gpu\(index)")
            #expect(gpu.breakdown.total == report.stepTime, "gpu\(index): \(gpu.breakdown.total) vs \(report.stepTime)")
        }
        #expect(try #require(report.modelFLOPsUtilization) > 0)
        let second = try Self.run(cluster: "cluster nodes=2 min-chunk=8MiB")
        #expect(second.traceHash == first.traceHash)
        #expect(second.report == report)
    }

    /// One step's report, trace hash, events and printed lines.
    typealias Run = (report: StepReport, traceHash: UInt64, events: UInt64, output: [String], opsDone: Int)

    /// The full emulation of the reduced step, run once for the approximation tests.
    static let fullEmulation = Result { () throws -> Run in try run(cluster: "cluster nodes=2 trace=hash") }

    /// The reduced step under an approximation: its step time within `bound` of the full emulation's, and not
    /// equal to it (else the test would be vacuous). Returns both runs.
    static func approximated(cluster: String, trainArguments: String = "", bound: Double) throws -> (
        approximated: Run, full: Run
    ) {
        let full = try fullEmulation.get()
        let run = try Self.run(cluster: cluster, trainArguments: trainArguments)
        let error = abs(run.report.stepTime.seconds / full.report.stepTime.seconds - 1)
        #expect(error <= bound, "step \(run.report.stepTime) vs \(full.report.stepTime)")
        #expect(run.report.stepTime != full.report.stepTime, "the approximation changes nothing: test is vacuous")
        #expect(run.output.contains { $0.hasPrefix("approximation (see docs/ARCHITECTURE.md") })
        #expect(!full.output.contains { $0.contains("approximation") })
        return (run, full)
    }

    @Test("coarse chunks (min-chunk=8MiB): far fewer chunk events, step time within the documented bound")
    func coarseChunksStayWithinTheBound() throws {
        let (coarse, full) = try Self.approximated(
            cluster: "cluster nodes=2 min-chunk=8MiB trace=hash", bound: Self.chunkApproximationBound)
        #expect(coarse.events * 4 < full.events, "\(coarse.events) events vs \(full.events)")
        #expect(coarse.output.contains { $0.contains("approximation: messages cut into chunks of at least 8 MiB") })
        #expect(coarse.output.contains { $0.contains("trace: hash only") })
    }

    @Test("a2a=flows: fewer events, step time within the documented bound and stated; a rerun has the same hash")
    func flowsStayWithinTheBound() throws {
        let (flows, full) = try Self.approximated(
            cluster: "cluster nodes=2 trace=hash", trainArguments: " a2a=flows", bound: Self.flowApproximationBound)
        #expect(flows.events < full.events, "\(flows.events) events vs \(full.events)")
        #expect(flows.output.contains { $0.contains("all-to-alls as flows (a2a=flows)") })
        #expect(flows.output.contains { $0.hasSuffix(TrainCommands.flowsApproximation) })
        let again = try Self.run(cluster: "cluster nodes=2 trace=hash", trainArguments: " a2a=flows")
        #expect(again.traceHash == flows.traceHash)
    }

    @Test("phantom-flows=on with a2a=flows: a tenth of the events, step time within its documented bound, stated")
    func allFlowsStayWithinTheBound() throws {
        let (flows, full) = try Self.approximated(
            cluster: "cluster nodes=2 trace=hash phantom-flows=on", trainArguments: " a2a=flows",
            bound: Self.phantomFlowsBound)
        #expect(flows.events * 10 < full.events, "\(flows.events) events vs \(full.events)")
        #expect(flows.output.contains { $0.contains("phantom messages as bulk flows (phantom-flows=on") })
        // phantom-flows alone (the EP layers' messages each a flow) holds the same bound.
        let alone = try Self.approximated(
            cluster: "cluster nodes=2 trace=hash phantom-flows=on", bound: Self.phantomFlowsBound
        ).approximated
        #expect(alone.events < full.events)
    }

    @Test("replicas=once: half the ops run, a shadow reports its twin's step, step time within the stated bound")
    func replicasOnceStayWithinTheBound() throws {
        let cluster = "cluster nodes=4 gpus-per-node=4 min-chunk=8MiB trace=hash"
        let all = try Self.run(cluster: cluster, trainLine: Self.replicatedTrain)
        let once = try Self.run(cluster: cluster, trainArguments: " replicas=once", trainLine: Self.replicatedTrain)
        let error = abs(once.report.stepTime.seconds / all.report.stepTime.seconds - 1)
        #expect(error <= Self.replicasBound, "step \(once.report.stepTime) vs \(all.report.stepTime)")
        #expect(once.report.stepTime != all.report.stepTime, "the approximation changes nothing: test is vacuous")
        // Replica 1 (data indices 4…7 of each pipeline rank) runs no schedule op, only ZeRO-1 and the mirror
        // exchange: fewer events, half the ops.
        #expect(once.events < all.events, "\(once.events) events vs \(all.events)")
        #expect(once.opsDone * 2 == all.opsDone, "\(once.opsDone) ops vs \(all.opsDone)")
        // GPU p·8 + d reports its twin p·8 + d mod 4's step, under its own name.
        for (index, gpu) in once.report.gpus.enumerated() {
            let twin = once.report.gpus[index - index % 8 + index % 4]
            #expect(gpu.breakdown == twin.breakdown && gpu.peakBytes == twin.peakBytes, "\(gpu.gpuName)")
            #expect(gpu.gpuName == "gpu\(index)")
        }
        #expect(once.output.contains { $0.hasSuffix(TrainCommands.replicasApproximation) })
        #expect(once.output.contains { $0.contains("DP replicas emulated once (replicas=once)") })
        #expect(!all.output.contains { $0.contains("replicas=once") })
    }

    @Test("trace=: a bad value is refused naming it; a hash-only world refuses trace export and show timeline")
    func traceKeyErrors() {
        MalformedLineTests.check(
            ("cluster trace=none", "t.moesim:1:15: error: 'none' is not valid for trace (one of full, hash)"))
        let refusal =
            "error: this world keeps only the trace's hash (cluster … trace=hash); rebuild it with trace=full"
        MalformedLineTests.check(
            ("trace export t.json", "t.moesim:1:1: " + refusal), after: ["cluster nodes=1 trace=hash"])
        MalformedLineTests.check(
            ("show timeline", "t.moesim:1:1: " + refusal), after: ["cluster nodes=1 trace=hash"])
    }
}
