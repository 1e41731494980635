import Testing

@testable import Scenario

@Suite("show layout")
struct LayoutCommandTests {
    final class Sink: @unchecked Sendable { var lines: [String] = [] }

    @Test("show layout prints the group sizes and the rank map")
    func twoNodes() {
        let sink = Sink()
        let session = ScenarioSession(output: { sink.lines.append($0) })
        #expect(session.execute("cluster nodes=2") == .done)
        #expect(session.execute("show layout pp=2 ep=4 dp-replica=2") == .done)
        let text = sink.lines.joined(separator: "\n")
        #expect(text.contains("layout pp=2 ep=4 dp-replica=2 on 16 GPUs (2 nodes × 8): DP_total 8"))
        #expect(text.contains("expert data (expert DP)       8     2  gpu0, gpu4"))
        #expect(text.contains("pipeline neighbours on different nodes: yes"))
        #expect(text.contains("  node1: gpu8 s1 d0 e0 r0 | gpu9 s1 d1 e1 r0"))
    }

    @Test(
        "bad layouts name the value",
        arguments: [
            (
                "show layout pp=3 ep=4",
                "t.moesim:1:16: error: pp × ep × dp-replica=12: 3 × 4 × 1 must equal the 16 GPUs of the cluster"
            ),
            (
                "show layout pp=1 ep=12",
                "t.moesim:1:21: error: ep=12: an EP group of at least a node must be whole nodes (a multiple of 8)"
            ),
        ])
    func malformed(line: String, expected: String) {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("cluster nodes=2") == .done)
        guard case .failed(let error) = session.execute(line, file: "t.moesim", line: 1) else {
            Issue.record("'\(line)' should fail")
            return
        }
        #expect(error.description.components(separatedBy: "\n").first == expected)
    }
}
