import Foundation
import Testing

@testable import Scenario

/// Malformed lines of the arguments issue 18 added or reworded: exact message, caret on the value.
@Suite("Malformed lines (usability)")
struct UsabilityMalformedLineTests {
    static let cases: [(line: String, error: String)] = [
        ("show links sort=size", "t.moesim:1:17: error: 'size' is not valid for sort (one of util, bytes, name)"),
        (
            "show links kind=pcie",
            "t.moesim:1:17: error: 'pcie' is not valid for kind (one of comm, nvlink, ib, all)"
        ),
        ("show memory everything", "t.moesim:1:13: error: expected 'all' or nothing, not 'everything'"),
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
}
