import Foundation
import Testing

@testable import Scenario

/// `help` output is part of the interface: compare it with the committed golden files
/// (regenerate with MOESIM_UPDATE_GOLDEN=1 swift test --filter HelpGoldenTests, then review the diff).
@Suite("Help golden files")
struct HelpGoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden")

    static func check(_ text: String, against name: String) throws {
        let url = goldenDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["MOESIM_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(text == golden, "help differs from \(name)")
    }

    @Test(
        "help lists every command with its synopsis",
        arguments: ["help", "help show", "help cluster", "help schedule", "help train"])
    func helpText(command: String) throws {
        var lines: [String] = []
        let session = ScenarioSession(output: { lines.append($0) })
        #expect(session.execute(command) == .done)
        try Self.check(
            lines.joined(separator: "\n") + "\n", against: command.replacingOccurrences(of: " ", with: "-") + ".txt")
    }

    @Test("every registered command appears in help and has a help page")
    func helpIsComplete() {
        var lines: [String] = []
        let session = ScenarioSession(output: { lines.append($0) })
        _ = session.execute("help")
        let overview = lines.joined(separator: "\n")
        for command in session.commands {
            #expect(overview.contains("  " + command.name + " "), "\(command.name) missing from help")
            #expect(session.execute("help \(command.name)") == .done)
        }
    }
}
