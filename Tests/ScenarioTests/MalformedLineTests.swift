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
        ("show", "t.moesim:1:1: error: missing topic: show time|trace|gpu|links|memory|route|schedule|layout|timeline"),
        ("send from=gpu0 to=gpu99 size=1MiB", "t.moesim:1:19: error: no GPU 'gpu99' (gpu0…gpu7)"),
        (
            "send from=gpu0 to=gpu1 size=3B",
            "t.moesim:1:29: error: size 3 B is not a whole number of bf16 elements (2 bytes each, at least one)"
        ),
        ("send from=gpu0 size=1MiB", "t.moesim:1:1: error: missing argument to=gpuN"),
        (
            "cluster preset=moon",
            "t.moesim:1:16: error: 'moon' is not valid for preset (one of h800-node, h100-node, h200-node, 2-nodes, 8-nodes, dsv3)"
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
        ("trace html t.html gpus=3-1", "t.moesim:1:24: error: '3-1' is not a GPU index or range (e.g. gpus=0-7,12)"),
        ("trace html t.html gpus=0,,2", "t.moesim:1:24: error: '' is not a GPU index or range (e.g. gpus=0-7,12)"),
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
    ]

    @Test("each malformed line gives its exact error with line and column", arguments: cases.indices)
    func malformedLine(index: Int) {
        let (line, expected) = Self.cases[index]
        let session = ScenarioSession(output: { _ in })
        guard case .failed(let error) = session.execute(line, file: "t.moesim", line: 1) else {
            Issue.record("'\(line)' should fail")
            return
        }
        #expect(error.description.components(separatedBy: "\n").first == expected)
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
