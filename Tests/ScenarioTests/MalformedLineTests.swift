import Foundation
import Testing

@testable import Scenario

@Suite("Malformed lines")
struct MalformedLineTests {
    /// Each malformed line and the exact error `file:line:col: error: …` it must give.
    static let cases: [(line: String, error: String)] = [
        ("bogus", "t.moesim:1:1: error: unknown command 'bogus'; type 'help' for the list"),
        ("run until", "t.moesim:1:5: error: missing time after 'until', e.g. 3ms"),
        ("run until 3", "t.moesim:1:11: error: '3' needs a unit (expected a time like 3us)"),
        (
            "run until 3parsecs",
            "t.moesim:1:11: error: unknown unit 'parsecs' in '3parsecs' (time units: ns, us, µs, ms, s)"
        ),
        ("run sideways 3ms", "t.moesim:1:5: error: expected 'until TIME' or 'for TIME' after 'run', not 'sideways'"),
        ("step many", "t.moesim:1:6: error: 'many' is not a whole number (expected 1…1000000000)"),
        (
            "step 99999999999999999999999",
            "t.moesim:1:6: error: '99999999999999999999999' is too large (expected 1…1000000000)"
        ),
        ("run until 1e300s", "t.moesim:1:11: error: '1e300s' is out of range"),
        ("run until 10000000000s", "t.moesim:1:11: error: time must be between 0 and 9e18 ns"),
        ("print", "t.moesim:1:1: error: missing metric name, e.g. sim.now"),
        (
            "print sim.nope",
            "t.moesim:1:7: error: unknown metric 'sim.nope' (did you mean sim.now, sim.events, sim.processes?); see 'list metrics'"
        ),
        ("expect sim.now ~ 3us", "t.moesim:1:16: error: '~' is not a comparison (== != < <= > >=)"),
        ("expect sim.now == 3us ± ", "t.moesim:1:23: error: missing tolerance after '±'"),
        (
            "show",
            "t.moesim:1:1: error: missing topic: show time|trace|gpu|links|memory|route|schedule|layout|step|timeline|faults"
        ),
        ("send from=gpu0 to=gpu99 size=1MiB", "t.moesim:1:19: error: no GPU 'gpu99' (gpu0…gpu7)"),
        (
            "send from=gpu0 to=gpu1 size=3B",
            "t.moesim:1:29: error: size 3 B is not a whole number of bf16 elements (2 bytes each, at least one)"
        ),
        ("send from=gpu0 size=1MiB", "t.moesim:1:1: error: missing argument to=gpuN"),
        (
            "cluster preset=moon",
            "t.moesim:1:16: error: 'moon' is not valid for preset (one of h800-node, h100-node, h200-node, 2-nodes, 8-nodes, dsv3, dsv3-mini)"
        ),
        ("cluster nvlink=fast", "t.moesim:1:16: error: 'fast' is not a number (expected a bandwidth like 160GB/s)"),
        (
            "alloc gpu=0 size=1TB",
            "t.moesim:1:1: error: out of memory on gpu0: requested 1000000000000 bytes of activations with 0 of 85520809984 bytes in use (85520809984 free)"
        ),
        ("send from= to=gpu1 size=1MiB", "t.moesim:1:6: error: missing value after 'from='"),
        (
            "collective all-reduce size=1MiB group=gpu0,gpuX",
            "t.moesim:1:44: error: no GPU 'gpuX' (gpu0…gpu7)"
        ),
        (
            "collective all-reduce size=3B",
            "t.moesim:1:12: error: invalid all-reduce size 3 bytes: must be a positive multiple of 2 (bf16)"
        ),
        ("collective all-gather", "t.moesim:1:1: error: missing argument size=… (bytes, e.g. size=64MiB)"),
        ("schedule 1f1b pp=8 microbatches=20 f=-1", "t.moesim:1:38: error: f must be between 0 and 1e6 time units"),
        (
            "schedule gpipe pp=1000 microbatches=10000",
            "t.moesim:1:37: error: pp × microbatches = 10000000 is too large (at most 50000)"
        ),
        (
            "kernel gpu=0 flops=1e12 dtype=fp4",
            "t.moesim:1:31: error: 'fp4' is not valid for dtype (one of bf16, fp16, fp8)"
        ),
        ("show gpu nine", "t.moesim:1:10: error: no GPU 'nine' (gpu0…gpu7)"),
        (
            "schedule dualpipe pp=8 microbatches=10",
            "t.moesim:1:10: error: DualPipe needs at least 16 micro-batches, got m=10"
        ),
        (#"trace export "unterminated.json"#, "t.moesim:1:14: error: unterminated quote: add a closing \""),
        ("trace", "t.moesim:1:1: error: usage: trace export FILE.json | trace html FILE.html"),
        ("trace draw x.html", "t.moesim:1:7: error: usage: trace export FILE.json | trace html FILE.html"),
        ("trace html", "t.moesim:1:7: error: missing file name after 'trace html'"),
        ("trace html t.html gpus=0-99", "t.moesim:1:24: error: GPU 99 is out of range (0…7)"),
        (
            "trace html t.html gpus=3-1",
            "t.moesim:1:24: error: '3-1' is not a GPU index or range (e.g. gpus=0-7,12 or gpu0-7)"
        ),
        (
            "trace html t.html gpus=0,,2",
            "t.moesim:1:24: error: '' is not a GPU index or range (e.g. gpus=0-7,12 or gpu0-7)"
        ),
        ("trace html t.html links=maybe", "t.moesim:1:25: error: 'maybe' is not valid for links (one of on, off)"),
        (
            "trace export t.json gpus=0",
            "t.moesim:1:21: error: unknown argument 'gpus': 'trace' takes no key=value arguments"
        ),
        ("show timeline width=5", "t.moesim:1:21: error: 5 is out of range (expected 10…1000)"),
        ("show timeline from=2ms to=1ms", "t.moesim:1:27: error: empty window: to= must be after from="),
        ("seed -4", "t.moesim:1:6: error: '-4' is not a seed (a whole number 0…18446744073709551615)"),
        ("step 3 extra", "t.moesim:1:8: error: unexpected 'extra' after 'step' (see 'help step')"),
        ("step count=3", "t.moesim:1:6: error: unknown argument 'count': 'step' takes no key=value arguments"),
        ("x=3", "t.moesim:1:1: error: a line starts with a command name, not 'x=3'"),
        ("list everything", "t.moesim:1:6: error: list what? 'list metrics' or 'list commands'"),
        // Faults and checks.
        ("fault", "t.moesim:1:1: error: missing link=NAME or gpu=N (or 'fault clear')"),
        ("fault link=gpu0.nic.out", "t.moesim:1:12: error: say what is wrong with gpu0.nic.out: 'down' or degrade=P%"),
        (
            "fault link=gpu0.nic.oot down",
            "t.moesim:1:12: error: no link named 'gpu0.nic.oot' (see 'show route' or 'list metrics')"
        ),
        (
            "fault link=gpu0.nic.out degrade=50",
            "t.moesim:1:33: error: degrade takes a percentage of the bandwidth, e.g. degrade=50%"
        ),
        ("fault link=gpu0.nic.out degrade=0%", "t.moesim:1:33: error: degrade must be above 0% and at most 100%"),
        ("fault link=gpu0.nic.out degrade=x%", "t.moesim:1:33: error: 'x' is not a number (expected a number like 8)"),
        (
            "fault link=gpu0.nic.out down degrade=50%",
            "t.moesim:1:38: error: a link is either down or degraded, not both"
        ),
        ("fault link=gpu0.nic.out gpu=1 slow=2", "t.moesim:1:29: error: a fault is on a link or a GPU, not both"),
        ("fault gpu=3 slow=0.5", "t.moesim:1:18: error: slow must be between 1 and 1000 (times slower)"),
        ("fault gpu=3", "t.moesim:1:11: error: missing slow=X: how many times slower gpu3 runs (e.g. slow=2)"),
        ("fault gpu=9 slow=2", "t.moesim:1:11: error: no GPU '9' (gpu0…gpu7)"),
        ("fault gpu=3 slow=2 down", "t.moesim:1:20: error: 'down' is for links; a GPU takes slow=X"),
        ("fault gpu=3 slow=2 degrade=5%", "t.moesim:1:28: error: degrade= is for links; a GPU takes slow=X"),
        ("fault link=gpu0.nic.out slow=2", "t.moesim:1:30: error: slow= is for GPUs; a link takes down or degrade=P%"),
        (
            "fault link=gpu0.nic.out down until=0us",
            "t.moesim:1:36: error: until=0us must come after now (t=0ns)"
        ),
        (
            "fault link=gpu0.nic.out down at=5us until=2us",
            "t.moesim:1:43: error: until=2us must come after at=5us"
        ),
        (
            "fault link=gpu0.nic.out down at=soon",
            "t.moesim:1:33: error: 'soon' is not a number (expected a time like 3us)"
        ),
        ("fault clear now", "t.moesim:1:13: error: unexpected 'now' after 'fault' (see 'help fault')"),
        ("fault clear gpu=1", "t.moesim:1:13: error: 'fault clear' takes no arguments"),
        (
            "fault sideways link=gpu0.nic.out",
            "t.moesim:1:7: error: expected 'down', 'clear' or 'random', not 'sideways'"
        ),
        ("fault random count=0", "t.moesim:1:20: error: 0 is out of range (expected 1…1000)"),
        ("fault random link=gpu0.nic.out", "t.moesim:1:14: error: 'fault random' takes count=N and until=T"),
        ("fault random until=0us", "t.moesim:1:20: error: until=0us must come after now (t=0ns)"),
        ("fault link=gpu0.nic.out down count=2", "t.moesim:1:30: error: count= goes with 'fault random'"),
        ("check extra", "t.moesim:1:7: error: unexpected 'extra' after 'check' (see 'help check')"),
        ("check gpu=1", "t.moesim:1:7: error: unknown argument 'gpu': 'check' takes no key=value arguments"),
        ("show faults now", "t.moesim:1:13: error: unexpected 'now' after 'show' (see 'help show')"),
        // Bad input everywhere: duplicate keys, fractional bytes, unreadable or unwritable files.
        (
            "send from=gpu0 to=gpu1 from=gpu2 size=1MiB",
            "t.moesim:1:24: error: duplicate argument 'from' (already given at column 6)"
        ),
        (
            "cluster nodes=2 nodes=4",
            "t.moesim:1:17: error: duplicate argument 'nodes' (already given at column 9)"
        ),
        ("alloc gpu=0 size=1.5B", "t.moesim:1:18: error: '1.5B' is 1.5 bytes, not a whole number of bytes"),
        ("send from=gpu0 to=gpu1 size=1.5B", "t.moesim:1:29: error: '1.5B' is 1.5 bytes, not a whole number of bytes"),
        (
            "kernel gpu=0 flops=1 bytes=0.25B",
            "t.moesim:1:28: error: '0.25B' is 0.25 bytes, not a whole number of bytes"
        ),
        (
            "cluster phantom-flows=yes",
            "t.moesim:1:23: error: 'yes' is not valid for phantom-flows (one of on, off)"
        ),
        (
            "cluster min-chunk=1000.5B",
            "t.moesim:1:19: error: '1000.5B' is 1000.5 bytes, not a whole number of bytes"
        ),
        (
            "source no-such-file.moesim",
            "t.moesim:1:8: error: cannot read 'no-such-file.moesim': No such file or directory"
        ),
        ("source /", "t.moesim:1:8: error: cannot read '/': Is a directory"),
        ("source /dev/null", "t.moesim:1:8: error: cannot read '/dev/null': not a regular file"),
        (
            "trace export /no/such/dir/t.json",
            "t.moesim:1:14: error: cannot write '/no/such/dir/t.json': No such file or directory"
        ),
        ("trace export /", "t.moesim:1:14: error: cannot write '/': Is a directory"),
    ]

    @Test("each malformed line gives its exact error with line and column", arguments: cases.indices)
    func malformedLine(index: Int) {
        Self.check(Self.cases[index])
    }

    /// Runs `line` as line 1 of `t.moesim` in a fresh session and expects it to fail with exactly `error`.
    static func check(_ malformed: (line: String, error: String), after setup: [String] = []) {
        let session = ScenarioSession(output: { _ in })
        for line in setup { #expect(session.execute(line) == .done, "\(line)") }
        guard case .failed(let error) = session.execute(malformed.line, file: "t.moesim", line: 1) else {
            Issue.record("'\(malformed.line)' should fail")
            return
        }
        #expect(error.description.components(separatedBy: "\n").first == malformed.error)
        // A refused line starts nothing.
        #expect(session.simulation.liveProcessCount == 0, "\(malformed.line)")
    }

    @Test("'run until' a time the clock has passed says so, pointing at the time")
    func runUntilThePast() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("run until 80us") == .done)
        guard case .failed(let error) = session.execute("run until 50us", file: "t.moesim", line: 2) else {
            Issue.record("expected a failure")
            return
        }
        #expect(
            error.description.components(separatedBy: "\n").first
                == "t.moesim:2:11: error: the clock is already at t=80µs, past 50us ('run for TIME' runs on from now)")
        #expect(session.execute("run until 80us") == .done)
    }

    @Test("a scenario file that cannot be read names the OS reason, with no line to show")
    func unreadableFile() {
        let session = ScenarioSession(output: { _ in })
        guard case .failed(let error) = session.runFile("/no/such/file.moesim") else {
            Issue.record("expected a failure")
            return
        }
        #expect(
            error.description
                == "/no/such/file.moesim: error: cannot read '/no/such/file.moesim': No such file or directory")
    }

    @Test("the caret sits under the offending token")
    func caretPlacement() {
        let session = ScenarioSession(output: { _ in })
        guard case .failed(let error) = session.execute("run until 3parsecs", file: "t.moesim", line: 4) else {
            Issue.record("expected a failure")
            return
        }
        #expect(
            error.description.components(separatedBy: "\n").dropFirst() == [
                "    run until 3parsecs", "              ^~~~~~~~",
            ])
    }

    @Test("non-UTF-8 bytes are reported with line and column, not crashed on")
    func invalidUTF8() {
        let bytes = Array("run\nprint sim.now \u{e9}".utf8) + [0xFF, 0x41] + Array("\nrun".utf8)
        guard case .failure(let error) = ScenarioFile.decode(bytes, file: "bad.moesim") else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(error.location == SourceLocation(file: "bad.moesim", line: 2, column: 16))
        #expect(error.message == "invalid UTF-8 byte 0xFF: scenario files must be UTF-8 text")
    }

    @Test("the session keeps working after errors")
    func survivesErrors() {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        for line in Self.cases.map(\.line) { _ = session.execute(line) }
        #expect(session.execute("print sim.now") == .done)
        #expect(printed.last == "sim.now = 0ns")
    }
}
