import Foundation
import SimCore
import Testing

@testable import Scenario

/// Issue 18 in the interpreter: named collectives and sends, one dtype vocabulary, messages, small commands.
@Suite("Usability")
struct UsabilityTests {
    /// A session that keeps what it prints.
    final class Recorder {
        var lines: [String] = []
        lazy var session = ScenarioSession(output: { [unowned self] in lines.append($0) })

        func run(_ script: [String]) {
            for line in script { #expect(session.execute(line) == .done, "\(line)") }
        }

        func value(_ metric: String) -> String? {
            lines.removeAll()
            guard session.execute("print \(metric)") == .done else { return nil }
            return lines.last.map { String($0.dropFirst(metric.count + 3)) }
        }
    }

    @Test("concurrent collectives are told apart by name=, each with its own metrics and trace span")
    func namedCollectives() throws {
        let recorder = Recorder()
        recorder.run([
            "collective all-reduce size=64MiB group=gpu0,gpu1,gpu2,gpu3 name=left",
            "collective all-reduce size=16MiB group=gpu4,gpu5,gpu6,gpu7 name=right", "run",
        ])
        // Disjoint groups share no link: each takes its alone time, 6 ring steps of α + S/4/B + chunking.
        #expect(recorder.value("collective[left].time") == "683.628µs")
        #expect(recorder.value("collective[right].time") == "194.472µs")
        #expect(recorder.value("collective[right].size") == "16 MiB")
        #expect(recorder.value("collective.last.time") == "683.628µs")
        let spans = recorder.session.simulation.trace.events.filter { $0.actor == "collectives" }
        #expect(spans.map(\.lane) == ["right", "left"])
        #expect(spans.map(\.name) == ["right", "left"])
        #expect(spans.last.map { $0.end - $0.start } == .nanoseconds(683_628))
        #expect(recorder.session.execute("collective all-gather size=1MiB name=left") != .done)
    }

    @Test("a named line that fails leaves its name free: the corrected line takes it")
    func failedNamedLineKeepsNameFree() {
        let recorder = Recorder()
        let session = recorder.session
        // Past the checks on the name: the 'real' size limit (collective), the EP layer's own checks (moe).
        #expect(session.execute("collective all-reduce size=1GiB name=ar real") != .done)
        #expect(session.execute("collective all-reduce size=1MiB name=ar") == .done)
        #expect(session.execute("moe tokens=8 hidden=128 expert-hidden=32 experts=4 topk=8 name=m") != .done)
        #expect(session.execute("moe tokens=8 hidden=128 expert-hidden=32 experts=8 topk=2 name=m") == .done)
        #expect(session.execute("send from=gpu0 to=gpu1 size=1MiB name=ar") != .done, "still taken once queued")
    }

    @Test("named sends have their own metrics")
    func namedSends() {
        let recorder = Recorder()
        recorder.run([
            "send from=gpu0 to=gpu1 size=1MiB name=small", "send from=gpu2 to=gpu3 size=4MiB dtype=fp8 name=big real",
            "run",
        ])
        #expect(recorder.value("send[small].bytes") == "1 MiB")
        #expect(recorder.value("send[big].bytes") == "4 MiB")
        #expect(recorder.value("send[big].intact") == "1")
        let small = recorder.value("send[small].time")
        let big = recorder.value("send[big].time")
        #expect(small != nil && big != nil && small != big)
    }

    @Test("dtype= takes fp32|bf16|fp16|fp8 (alias fp8e4m3) in every command; fp8 kernels run at the FP8 rate")
    func oneDTypeVocabulary() {
        let recorder = Recorder()
        recorder.run([
            "send from=gpu0 to=gpu1 size=3B dtype=fp8", "collective all-gather size=8MiB dtype=fp8e4m3",
            "collective all-gather size=8MiB dtype=fp16",
        ])
        #expect(recorder.lines.contains { $0.hasPrefix("queued 3 B fp8e4m3 phantom message") })
        recorder.lines.removeAll()
        // 1e15 FLOPs on 112 of an H800's 132 SMs: the dense bf16 rate (fp16 the same), fp8 twice it.
        recorder.run([
            "kernel gpu=0 flops=1e15 dtype=bf16", "kernel gpu=1 flops=1e15 dtype=fp8",
            "kernel gpu=2 flops=1e15 dtype=fp16",
        ])
        let times = recorder.lines.compactMap { $0.split(separator: " ").last }.map(String.init)
        #expect(times == ["1.192s", "595.543ms", "1.192s"], "\(recorder.lines)")
        recorder.lines.removeAll()
        recorder.run(["help"])
        #expect(recorder.lines.joined().contains("dtype= takes fp32, bf16, fp16 or fp8 (alias fp8e4m3)"))
    }

    @Test("step says how many events it ran, in words a user reads")
    func stepMessage() {
        let recorder = Recorder()
        recorder.run(["send from=gpu0 to=gpu1 size=1MiB"])
        recorder.lines.removeAll()
        recorder.run(["step", "step 2"])
        #expect(
            recorder.lines == [
                "t=0ns: stopped after 1 event (1 event so far)", "t=0ns: stopped after 2 events (3 events so far)",
            ])
    }

    @Test("list commands gives one-line summaries; help kernel says the default efficiency")
    func smallOnes() {
        let recorder = Recorder()
        recorder.run(["list commands"])
        #expect(recorder.lines.contains { $0.hasPrefix("run ") && $0.hasSuffix("prints why it stopped") })
        #expect(recorder.lines.count == recorder.session.commands.count)
        recorder.lines.removeAll()
        recorder.run(["help kernel"])
        #expect(recorder.lines.joined().contains("default 1.0 = peak"))
    }

    @Test("schedule explains parameter copies: DualPipe-V has two stages per device, no duplicate weights")
    func parameterCopies() {
        let recorder = Recorder()
        recorder.run(["schedule dualpipev pp=4 microbatches=8", "schedule dualpipe pp=4 microbatches=8"])
        #expect(
            recorder.lines.contains(
                "  parameter copies 2x: 2 different stages per device, each stage on one device only (no duplicate weights)"
            ))
        #expect(
            recorder.lines.contains(
                "  parameter copies 2x: 2 stages per device and every stage on 2 devices, so the model's weights are held 2 times"
            ))
    }

    @Test("completion offers the new keys and values: show links sort=/kind=, show memory all, dtype=, named metrics")
    func completions() {
        let recorder = Recorder()
        let session = recorder.session
        #expect(session.completions(for: "show links so") == ["sort="])
        #expect(session.completions(for: "show links sort=u") == ["sort=util"])
        #expect(session.completions(for: "show links kind=") == ["kind=comm", "kind=nvlink", "kind=ib", "kind=all"])
        #expect(session.completions(for: "show memory a") == ["all"])
        #expect(session.completions(for: "show memory ") == ["all"])
        #expect(session.completions(for: "show li") == ["links"])
        #expect(session.completions(for: "kernel gpu=0 dt") == ["dtype="])
        #expect(
            session.completions(for: "collective all-gather dtype=fp") == ["dtype=fp32", "dtype=fp16", "dtype=fp8"])
        recorder.run(["collective all-gather size=1MiB name=ag", "run"])
        #expect(session.completions(for: "print collective[a").contains("collective[ag].busbw"))
    }
}
