import Testing

@testable import Scenario

/// `memory model=NAME`: ZeRO-1 model states per pipeline rank of a composed layout (issue 16).
@Suite struct MemoryLayoutTests {
    private func session(_ lines: [String]) -> (ScenarioSession, [String]) {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        for line in lines { #expect(session.execute(line) == .done, "\(line)") }
        return (session, printed)
    }

    @Test func deepSeekV3DefaultsGiveTheFormula() throws {
        // Rank 0: stages 0 and 15 (LayoutModelStatesTests derives it by hand).
        let (session, printed) = session([
            "memory model=dsv3", "expect memory.rank_states[0] == 21708007872B",
            "expect memory.rank_states[1] == 16490851328B",
        ])
        #expect(printed.first?.contains("PP16 × EP64 × DP_replica 2 (2048 GPUs)") == true)
        #expect(printed.count >= 2 + 16 && printed[2].contains("0,15") && printed[2].contains("21.71 GB"), "\(printed)")
        guard case .failed = session.execute("print memory.rank_states[16]") else {
            Issue.record("rank 16 of PP16 exists")
            return
        }
        _ = self.session(["memory model=dsv3-mini dualpipe=off moments=fp32", "expect memory.rank_states[3] > 0B"])
    }

    @Test(arguments: [
        ("memory model=tiny", "t.moesim:1:14: error: model=tiny has no step defaults: give pp=, ep= and dp-replica="),
        ("memory model=dsv3 ep=3", "t.moesim:1:22: error: ep=3: does not divide the model's 256 routed experts"),
        (
            "memory model=dsv3 pp=62",
            "t.moesim:1:22: error: invalid config: 61 layers cannot fill 62 pipeline stages (one layer each)"
        ),
        (
            "memory model=dsv3 params=5",
            "t.moesim:1:19: error: unknown argument 'params': 'memory' takes model, pp, ep, dp-replica, dualpipe, moments"
        ),
        ("memory model=dsv3 dualpipe=yes", "t.moesim:1:28: error: 'yes' is not valid for dualpipe (one of on, off)"),
    ])
    func badInputNamesTheValue(line: String, message: String) {
        let session = ScenarioSession(output: { _ in })
        guard case .failed(let error) = session.execute(line, file: "t.moesim", line: 1) else {
            Issue.record("\(line) did not fail")
            return
        }
        #expect(error.description.components(separatedBy: "\n").first == message)
    }
}
