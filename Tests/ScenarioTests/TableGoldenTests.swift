import Foundation
import Testing

@testable import Scenario

/// `show links` and `show memory` output against committed golden files (regenerate as for help:
/// MOESIM_UPDATE_GOLDEN=1 swift test --filter TableGoldenTests, then review the diff).
@Suite("Table golden files", .serialized)
struct TableGoldenTests {
    /// The output of `script`'s last line, after the earlier lines ran.
    static func output(of script: [String]) -> String {
        var lines: [String] = []
        let session = ScenarioSession(output: { lines.append($0) })
        for line in script.dropLast() { #expect(session.execute(line) == .done, "\(line)") }
        lines.removeAll()
        #expect(session.execute(script.last ?? "") == .done)
        return lines.joined(separator: "\n") + "\n"
    }

    static let twoNodeAllToAll = ["cluster preset=2-nodes", "collective all-to-all size=64MiB", "run"]

    @Test("show links on 2 nodes: NICs first (by utilisation), the busiest of each kind marked")
    func linksByUtilisation() throws {
        let text = Self.output(of: Self.twoNodeAllToAll + ["show links top=6"])
        try HelpGoldenTests.check(text, against: "show-links-2-nodes.txt")
        #expect(text.components(separatedBy: "\n")[1].hasPrefix("gpu0.nic.out"))
    }

    @Test("show links kind= and sort= select and order the rows")
    func linksFiltered() throws {
        let nvlink = Self.output(of: Self.twoNodeAllToAll + ["show links kind=nvlink sort=bytes top=3"])
        try HelpGoldenTests.check(nvlink, against: "show-links-nvlink.txt")
        let byName = Self.output(of: Self.twoNodeAllToAll + ["show links sort=name top=40"])
        let names = byName.components(separatedBy: "\n").dropFirst().prefix(40).compactMap {
            $0.split(separator: " ").first
        }
        let gpu2 = try #require(names.firstIndex(of: "gpu2.comm.out"))
        let gpu10 = try #require(names.firstIndex(of: "gpu10.comm.out"))
        #expect(gpu2 < gpu10)
    }

    @Test("show memory on 2048 GPUs: full names, min/median/max and the fullest GPUs; 'all' lists every GPU")
    func memorySummary() throws {
        let setup =
            ["cluster preset=dsv3"] + (1_000...1_009).map { "alloc gpu=\($0) size=\($0 - 990)GiB kind=parameters" }
        let text = Self.output(of: setup + ["show memory"])
        try HelpGoldenTests.check(text, against: "show-memory-dsv3.txt")
        let all = Self.output(of: setup + ["show memory all"])
        let rows = all.components(separatedBy: "\n").filter { $0.hasPrefix("gpu") }
        #expect(rows.count == 2_049)
        #expect((1_000...1_009).allSatisfy { index in rows.contains { $0.hasPrefix("gpu\(index) ") } })
    }

    @Test("a table's columns are as wide as their widest cell")
    func tableWidths() {
        var table = TextTable([.init("name", .left), .init("bytes")])
        table.add(["gpu1009", "1 B"])
        table.add(["g", "30 GiB"])
        #expect(table.lines() == ["name      bytes", "gpu1009     1 B", "g        30 GiB"])
    }
}
