import Foundation
import SimCore
import Testing

@testable import Scenario

@Suite("Trace spans of pipeline ops, MoE layer phases and collective lanes", .serialized)
struct TraceSpansTests {
    private func session(_ lines: [String]) -> ScenarioSession {
        let session = ScenarioSession(output: { _ in })
        for line in lines { #expect(session.execute(line) == .done, "\(line)") }
        return session
    }

    private func exported(_ session: ScenarioSession) throws -> [[String: Any]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-spans-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(session.execute("trace export \(path)") == .done)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        return try #require((object as? [String: Any])?["traceEvents"] as? [[String: Any]])
    }

    /// The complete ("X") events of the Chrome trace on process `actor`, with their thread names.
    private func spans(_ all: [[String: Any]], actor: String) -> [(name: String, thread: String, args: [String: Any])] {
        let processes = ChromeTraceTests.processNames(all)
        var threads: [[Int]: String] = [:]  // lookup only, never iterated
        for event in all where event["name"] as? String == "thread_name" {
            if let pid = event["pid"] as? Int, let tid = event["tid"] as? Int,
                let name = (event["args"] as? [String: Any])?["name"] as? String
            {
                threads[[pid, tid]] = name
            }
        }
        return all.compactMap { event in
            guard event["ph"] as? String == "X", let pid = event["pid"] as? Int, processes[pid] == actor,
                let tid = event["tid"] as? Int, let name = event["name"] as? String
            else { return nil }
            return (name, threads[[pid, tid]] ?? "", event["args"] as? [String: Any] ?? [:])
        }
    }

    @Test("a 1F1B step's ops are spans F/B/W on lane pipeline of each GPU, with mb= and category=")
    func pipelineSpans() throws {
        let session = session(["train model=tiny pp=4 schedule=1f1b microbatches=8 steps=1 costs=unit", "run"])
        let all = try exported(session)
        for gpu in 0..<4 {
            let ops = spans(all, actor: "node0 gpu\(gpu)").filter { $0.thread == "pipeline" }
            // 1F1B without split backward: one F and one full backward per micro-batch.
            #expect(ops.count == 16, "gpu\(gpu): \(ops.map(\.name))")
            #expect(ops.filter { $0.name.hasPrefix("F") }.map { $0.args["mb"] as? Int } == (0..<8).map { $0 })
            #expect(ops.allSatisfy { ["F", "B"].contains($0.args["category"] as? String ?? "") })
        }
        let timeline = Timeline(trace: session.simulation.trace, selection: TimelineSelection(gpus: [0]))
        let lane = try #require(timeline.lanes.first { $0.label == "pipeline" })
        #expect(lane.spans.map(\.category).filter { $0 == .forward }.count == 8)
        #expect(lane.spans.allSatisfy { $0.microBatch != nil })
    }

    @Test("DualPipe's overlapped pairs are F&B spans")
    func dualPipeOverlap() throws {
        let session = session(["train model=tiny pp=4 schedule=dualpipe microbatches=8 steps=1 costs=unit", "run"])
        let timeline = Timeline(trace: session.simulation.trace, selection: TimelineSelection())
        let pipeline = timeline.lanes.filter { $0.label == "pipeline" }
        #expect(pipeline.count == 4)
        let overlapped = pipeline.flatMap(\.spans).filter { $0.category == .overlapped }
        #expect(!overlapped.isEmpty && overlapped.allSatisfy { $0.name.hasPrefix("F&B ") })
    }

    @Test("an EP8 layer's gate, dispatch, experts and combine are spans on lane moe of every GPU")
    func moeSpans() throws {
        let session = session([
            "moe tokens=256 hidden=512 expert-hidden=256 experts=16 topk=2 group=gpu0-7 name=l0 backward", "run",
        ])
        let all = try exported(session)
        for gpu in 0..<8 {
            let phases = spans(all, actor: "node0 gpu\(gpu)").filter { $0.thread == "moe" }
            let words = phases.map { String($0.name.prefix { $0 != " " }) }
            #expect(words.contains("dispatch") && words.contains("experts") && words.contains("combine"), "\(words)")
            #expect(words.contains("B") && words.contains("W"))
            let dispatch = try #require(phases.last { $0.name == "dispatch moe" })
            #expect((dispatch.args["bytes"] as? Int ?? 0) > 0)
        }
        let timeline = Timeline(trace: session.simulation.trace, selection: TimelineSelection(gpus: [3]))
        let lane = try #require(timeline.lanes.first { $0.label == "moe" })
        #expect(
            lane.spans.map(\.category).filter { $0 != .kernel && $0 != .dispatch }
                == [.mlp, .combine, .backward, .weight])
    }

    @Test("a sweep of unnamed collectives draws one lane; concurrent ones get one lane each")
    func collectiveLanesReused() {
        var lines = ["cluster preset=h800-node"]
        for size in ["1MiB", "2MiB", "4MiB", "8MiB", "16MiB"] {
            lines += ["collective all-reduce size=\(size)", "run"]
        }
        lines += [
            "collective all-reduce size=1MiB group=gpu0-3", "collective all-reduce size=1MiB group=gpu4-7", "run",
        ]
        lines += ["collective all-gather size=1MiB", "run"]
        let session = session(lines)
        let lanes = session.simulation.trace.trackNames.filter { $0.actor == "collectives" }.map(\.lane)
        #expect(lanes == ["all-reduce #1", "all-reduce #2", "all-gather #1"])
        var perLane = [0, 0, 0]
        session.simulation.trace.forEachRecord { record in
            let names = session.simulation.trace.names(of: record.track)
            if record.isSpan, names.actor == "collectives", let index = lanes.firstIndex(of: names.lane) {
                perLane[index] += 1
            }
        }
        #expect(perLane == [6, 1, 1])
    }

    @Test("gpus= takes the group= range syntax and bare ranges; group= takes bare ranges")
    func sharedRangeSyntax() throws {
        #expect(try TraceCommands.gpuList("gpu0-3,gpu6,7", count: 8).get() == [0, 1, 2, 3, 6, 7])
        #expect(try TraceCommands.gpuList("0-1", count: 8).get() == [0, 1])
        for bad in ["gpu3-1", "0-", "-2", "gpux", "node0", "1-2-3", ""] {
            #expect((try? TraceCommands.gpuList(bad, count: 8).get()) == nil, "\(bad)")
        }
        #expect(IndexRange.parse("node2-3", prefix: "node") == 2...3)
        let session = session(["collective all-reduce size=1MiB group=0-3 name=bare", "run"])
        #expect(session.execute("expect collective[bare].time > 0s") == .done)
        #expect(session.execute("show timeline gpus=gpu0-1 width=20") == .done)
    }

    @Test("trace export completes no keys; trace html completes its own")
    func traceCompletion() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.completions(for: "trace export out.json ") == [])
        #expect(session.completions(for: "trace html out.html t") == ["title="])
        #expect(session.completions(for: "trace html out.html g") == ["gpus="])
        #expect(session.completions(for: "trace h") == ["html"])
    }
}
