import Testing

@testable import Scenario

/// The `memory` planner's malformed lines: each gives its exact `file:line:col` error and starts nothing.
@Suite("Malformed memory lines")
struct MemoryMalformedLineTests {
    static let paramsRule = "params must be a whole parameter count between 1 and 1e16 (7500000000 or 7.5e9), not"

    static let cases: [(line: String, error: String)] = [
        ("memory", "t.moesim:1:1: error: missing argument params=N (a parameter count, e.g. params=7.5e9)"),
        ("memory params=7.5e9", "t.moesim:1:1: error: missing argument dp=N"),
        ("memory params= dp=8", "t.moesim:1:8: error: missing value after 'params='"),
        ("memory params=0 dp=8", "t.moesim:1:15: error: \(paramsRule) '0'"),
        ("memory params=-5 dp=8", "t.moesim:1:15: error: \(paramsRule) '-5'"),
        ("memory params=1e17 dp=8", "t.moesim:1:15: error: \(paramsRule) '1e17'"),
        ("memory params=7.5 dp=8", "t.moesim:1:15: error: \(paramsRule) '7.5'"),
        ("memory params=nan dp=8", "t.moesim:1:15: error: \(paramsRule) 'nan'"),
        ("memory params=inf dp=8", "t.moesim:1:15: error: \(paramsRule) 'inf'"),
        ("memory params=0x10 dp=8", "t.moesim:1:15: error: \(paramsRule) '0x10'"),
        ("memory params=7GB dp=8", "t.moesim:1:15: error: \(paramsRule) '7GB'"),
        ("memory params=1e9 dp=0", "t.moesim:1:22: error: 0 is out of range (expected 1…1000000)"),
        ("memory params=7.5e9 dp=2000000", "t.moesim:1:24: error: 2000000 is out of range (expected 1…1000000)"),
        ("memory params=7.5e9 dp=x", "t.moesim:1:24: error: 'x' is not a whole number (expected 1…1000000)"),
        ("memory params=1e9 dp=1.5", "t.moesim:1:22: error: '1.5' is not a whole number (expected 1…1000000)"),
        (
            "memory params=7.5e9 dp=8 moments=fp16",
            "t.moesim:1:34: error: 'fp16' is not valid for moments (one of fp32, bf16)"
        ),
        ("memory params=7.5e9 dp=8 moments=", "t.moesim:1:26: error: missing value after 'moments='"),
        (
            "memory params=7.5e9 dp=8 zero=1",
            "t.moesim:1:26: error: unknown argument 'zero': 'memory' takes params, dp, moments"
        ),
        (
            "memory params=7.5e9 dp=8 extra",
            "t.moesim:1:26: error: unexpected 'extra' after 'memory' (see 'help memory')"
        ),
        (
            "memory params=7.5e9 dp=8 dp=4",
            "t.moesim:1:26: error: duplicate argument 'dp' (already given at column 21)"
        ),
    ]

    @Test("each malformed memory line gives its exact error with line and column", arguments: cases.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.cases[index])
    }

    @Test("a refused memory line keeps the last plan")
    func refusalKeepsPlan() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("memory params=7.5e9 dp=64") == .done)
        #expect(session.execute("memory params=0x10 dp=8") != .done)
        // ZeRO-3 of the paper's example: 16Ψ/N_d = 16 × 7.5e9 / 64 = 1.875 GB, still the plan shown.
        #expect(session.execute("expect memory.model_states[3] == 1875000000B") == .done)
    }
}
