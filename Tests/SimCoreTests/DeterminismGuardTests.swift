import Foundation
import Testing

/// The emulator's sources must not reach for the wall clock, other executors or unordered iteration
/// (DESIGN.md, "Virtual time with real actors"). Benchmarks are exempt: they measure wall time.
@Suite("Determinism guard")
struct DeterminismGuardTests {
    /// Forbidden spellings and why.
    static let forbidden: [(pattern: String, reason: String)] = [
        (#"Task\.detached"#, "drops the process's task locals (use Task {})"),
        (#"Task\.sleep"#, "sleeps on a real clock"),
        (#"@MainActor"#, "runs on the main thread"),
        (#"Dispatch(Queue|Semaphore|Time|Group)"#, "uses Dispatch"),
        (
            #"(^|\W)Date\(\)|ContinuousClock|SuspendingClock|clock_gettime|gettimeofday|CFAbsoluteTime"#,
            "reads a wall clock"
        ),
        (#"\.(keys|values)\b(?!\.count|\.isEmpty)"#, "iterates a Dictionary in hash order"),
    ]

    /// A Dictionary or Set declaration; each must say on its line that it is never iterated.
    static let unorderedDeclaration =
        #"(:\s*\[\s*[A-Z][\w.<>]*\s*:\s*[\w.<>\[\]?]+\s*\])|(\[\s*[A-Z][\w.<>]*\s*:\s*[\w.<>\[\]?]+\s*\]\(\))|Set<|Dictionary<"#

    static func emulatorSourceFiles() throws -> [URL] {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        let files = (enumerator?.allObjects as? [URL] ?? []).filter {
            $0.pathExtension == "swift" && !$0.path.contains("/moesim-bench/")
        }
        return files.sorted { $0.path < $1.path }
    }

    @Test("emulator sources avoid wall clocks, foreign executors and hash-ordered iteration")
    func sourcesAreDeterministic() throws {
        let files = try Self.emulatorSourceFiles()
        #expect(files.count >= 10)
        var violations: [String] = []
        for file in files {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                let code = line.components(separatedBy: "//").first ?? line
                for rule in Self.forbidden where code.range(of: rule.pattern, options: .regularExpression) != nil {
                    // The executable may time its progress line (issue 16); the emulator never reads a clock.
                    if rule.reason == "reads a wall clock" && file.path.contains("/Sources/moesim/") { continue }
                    violations.append("\(file.lastPathComponent):\(number + 1): \(rule.reason): \(line)")
                }
                if code.range(of: Self.unorderedDeclaration, options: .regularExpression) != nil,
                    !line.contains("never iterated")
                {
                    violations.append(
                        "\(file.lastPathComponent):\(number + 1): Dictionary/Set without 'never iterated': \(line)")
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    @Test("the guard's patterns catch what they are meant to catch")
    func patternsCatchViolations() {
        let bad = [
            "Task.detached { }", "try await Task.sleep(for: .seconds(1))",
            "@MainActor func f()", "DispatchQueue.main.async {}", "let d = Date()", "let c = ContinuousClock()",
            "for key in table.keys {", "for v in d.values {",
        ]
        for line in bad {
            #expect(
                Self.forbidden.contains { line.range(of: $0.pattern, options: .regularExpression) != nil }, "\(line)")
        }
        let good = [
            "Task { await self.transmit(token: token) }", "if table.keys.isEmpty {", "let count = d.values.count",
        ]
        for line in good {
            #expect(
                !Self.forbidden.contains { line.range(of: $0.pattern, options: .regularExpression) != nil }, "\(line)")
        }
        for declaration in ["var x: [String: Int32] = [:]", "let s = Set<Int>()", "var m = [Int64: Int32]()"] {
            #expect(
                declaration.range(of: Self.unorderedDeclaration, options: .regularExpression) != nil, "\(declaration)")
        }
    }
}
