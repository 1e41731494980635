import Foundation
import Hardware
import SimCore
import Testing

@testable import Scenario

@Suite("Chrome trace: flows, counters, processes", .serialized)
struct ChromeTraceTests {
    private func session(_ lines: [String]) -> ScenarioSession {
        let session = ScenarioSession(output: { _ in })
        for line in lines { #expect(session.execute(line) == .done, "\(line)") }
        return session
    }

    private func events(_ json: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return try #require(object?["traceEvents"] as? [[String: Any]])
    }

    private func exported(_ session: ScenarioSession) throws -> [[String: Any]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-chrome-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(session.execute("trace export \(path)") == .done)
        return try events(String(contentsOfFile: path, encoding: .utf8))
    }

    @Test(
        "every delivered message has one flow start on its send and one end on its delivery",
        arguments: ["hierarchical", "pairwise"])
    func flowPairs(algorithm: String) throws {
        let session = session(["cluster preset=2-nodes", "collective all-to-all size=4MiB algo=\(algorithm)", "run"])
        let all = try exported(session)
        let sends = session.simulation.trace.events.filter { $0.kind == .instant && $0.name == "send" }
        let starts = all.filter { $0["flow_out"] as? Bool == true }
        let ends = all.filter { $0["flow_in"] as? Bool == true }
        #expect(!sends.isEmpty && starts.count == sends.count && ends.count == sends.count)
        var endByID: [Int: [String: Any]] = [:]  // lookup only, never iterated
        for end in ends { endByID[end["bind_id"] as? Int ?? -1] = end }
        #expect(endByID.count == ends.count)
        for start in starts {
            #expect(start["name"] as? String == "send" && start["ph"] as? String == "X")
            let end = try #require(endByID[start["bind_id"] as? Int ?? -2])
            #expect((end["ts"] as? Double ?? -1) > (start["ts"] as? Double ?? 0))
            #expect(end["name"] as? String == "deliver" && end["cat"] as? String == start["cat"] as? String)
        }
        // The starts are the send instants: same times, as a multiset.
        let sendTimes = sends.map { Double($0.start.nanosecondsSinceStart) / 1_000 }.sorted()
        #expect(starts.compactMap { $0["ts"] as? Double }.sorted() == sendTimes)
    }

    @Test("a single message's flow spans exactly its queue-to-arrival time")
    func flowMatchesSendTime() throws {
        let session = session(["send from=gpu0 to=gpu3 size=8MiB", "run"])
        let flows = session.simulation.trace.flows
        #expect(flows.count == 1)
        let lines = LineSink()
        session.output = lines.append
        #expect(session.execute("print send.last.time") == .done)
        let time = Double(flows[0].deliveredNs - flows[0].sentNs)
        #expect(lines.lines == ["send.last.time = " + Quantity.format(time, .time)])
        #expect(flows[0].bytes == 8 * 1_048_576)
    }

    @Test("link utilisation counters integrate to the utilisation 'show links' prints")
    func utilisationCounters() throws {
        let session = session(["cluster preset=2-nodes", "collective all-to-all size=8MiB algo=pairwise", "run"])
        var options = ChromeTraceOptions()
        options.endNs = session.simulation.now.nanosecondsSinceStart
        options.counterBins = 37
        let all = try events(session.simulation.trace.chromeTraceJSON(options: options))
        let processNames = Self.processNames(all)
        var counters: [String: [[String: Any]]] = [:]  // lookup only, never iterated
        for event in all where event["ph"] as? String == "C" {
            guard let name = event["name"] as? String, let pid = event["pid"] as? Int, let actor = processNames[pid]
            else { continue }
            counters[actor + "." + name, default: []].append(event)
        }
        let cluster = try #require(session.traceCommands?.clusterCommands.cluster)
        let now = session.simulation.now
        let endUs = Double(now.nanosecondsSinceStart) / 1_000
        var checked = 0
        for report in cluster.linkReports() where report.stats.bytes > 0 {
            let samples = counters[report.name] ?? []
            #expect(samples.count >= 2, "\(report.name)")
            var integral = 0.0
            for (sample, next) in zip(samples, samples.dropFirst()) {
                let args = sample["args"] as? [String: Any]
                let value: Double = args?["utilisation"] as? Double ?? -1
                let from: Double = sample["ts"] as? Double ?? 0
                let to: Double = next["ts"] as? Double ?? 0
                integral += value * (to - from)
            }
            #expect(samples.last?["ts"] as? Double == endUs)
            #expect(abs(integral / endUs - report.utilisation(to: now)) < 1e-6, "\(report.name)")
            checked += 1
        }
        #expect(checked > 40)
    }

    @Test("HBM counters follow alloc and free per kind")
    func memoryCounters() throws {
        let session = session([
            "alloc gpu=2 size=1GiB kind=gradients", "run for 5us", "alloc gpu=2 size=2GiB kind=activations",
            "run for 5us", "free gpu=2 size=1GiB kind=gradients",
        ])
        let samples = try exported(session).filter { $0["ph"] as? String == "C" && $0["name"] as? String == "hbm" }
        let args = samples.compactMap { $0["args"] as? [String: Double] }
        #expect(samples.map { $0["ts"] as? Double } == [0, 5, 10])
        #expect(args.map { $0["gradients"] } == [1_073_741_824, 1_073_741_824, 0])
        #expect(args.map { $0["activations"] } == [nil, 2_147_483_648, 2_147_483_648])
    }

    @Test("processes are named by node and GPU and sorted GPU, its NIC, …, NVSwitch per node, then switches")
    func processOrder() throws {
        let session = session(["cluster preset=2-nodes", "send from=gpu1 to=gpu9 size=1MiB", "run"])
        let all = try exported(session)
        let names = Self.processNames(all)
        var keyed: [(index: Int, name: String)] = []
        for event in all where event["name"] as? String == "process_sort_index" {
            let args = event["args"] as? [String: Any]
            guard let index = args?["sort_index"] as? Int, let pid = event["pid"] as? Int, let name = names[pid] else {
                continue
            }
            keyed.append((index, name))
        }
        let order = keyed.sorted { $0.index < $1.index }.map(\.name)
        #expect(Array(order.prefix(4)) == ["node0 gpu0", "node0 gpu0 NIC", "node0 gpu1", "node0 gpu1 NIC"])
        #expect(order[16] == "node0 NVSwitch" && order[17] == "node1 gpu8")
        #expect(order.suffix(2).allSatisfy { $0.hasPrefix("spine") } && order[order.count - 3].hasPrefix("leaf"))
    }

    @Test("flows and counters leave the trace hash unchanged")
    func hashUnchanged() {
        let withAnnotations = TraceRecorder()
        let plain = TraceRecorder()
        for recorder in [withAnnotations, plain] {
            let track = recorder.track(actor: "gpu0", lane: "sends")
            recorder.instant(track, "send", at: .start)
            if recorder === withAnnotations {
                recorder.flow(
                    from: track, sent: .start, to: track, delivered: SimInstant(nanosecondsSinceStart: 9), bytes: 1,
                    tag: 2)
                recorder.counter(track, "hbm", series: "activations", at: .start, value: 4)
            }
        }
        #expect(withAnnotations.hash == plain.hash)
        #expect(withAnnotations.flows.count == 1 && withAnnotations.counterSamples.count == 1)
        #expect(TraceRecorder(storesEvents: false).flows.isEmpty)
    }
}

extension ChromeTraceTests {
    /// Chrome pid → process name, from the metadata events.
    static func processNames(_ all: [[String: Any]]) -> [Int: String] {
        var names: [Int: String] = [:]  // lookup only, never iterated
        for event in all where event["name"] as? String == "process_name" {
            let args = event["args"] as? [String: Any]
            if let pid = event["pid"] as? Int, let name = args?["name"] as? String { names[pid] = name }
        }
        return names
    }
}

private final class LineSink {
    var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
}
