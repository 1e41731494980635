import Foundation
import Testing

@testable import Scenario

/// The fuzzer's kept inputs (fuzz/regressions/: every crash, hang or broken promise it found, plus hand-written
/// edge cases) and the shipped scenarios, replayed through the fuzz harness: none may trap.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func files(in folder: String) -> [String] {
        let directory = repositoryRoot.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map {
            directory.appendingPathComponent($0).path
        }
    }

    @Test("every kept fuzz input runs through the harness without trapping", arguments: files(in: "fuzz/regressions"))
    func regressionInput(path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        FuzzHarness.run(bytes)
    }

    @Test("the seed corpus (scenarios/) runs through the harness")
    func seedCorpus() throws {
        let paths = Self.files(in: "scenarios")
        #expect(paths.count >= 4)
        for path in paths {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(FuzzHarness.run(bytes) > 0, "\(path)")
        }
    }

    @Test("the harness skips lines beyond its bounds and refuses file access")
    func bounds() {
        #expect(!FuzzHarness.isWithinBounds("cluster preset=dsv3"))
        #expect(!FuzzHarness.isWithinBounds("cluster preset=dsv3-mini"))
        #expect(!FuzzHarness.isWithinBounds("cluster nodes=5"))
        #expect(FuzzHarness.isWithinBounds("cluster nodes=4"))
        #expect(!FuzzHarness.isWithinBounds("send from=gpu0 to=gpu1 size=2MiB real"))
        #expect(FuzzHarness.isWithinBounds("send from=gpu0 to=gpu1 size=2MiB"))
        #expect(!FuzzHarness.isWithinBounds("collective all-reduce size=1GiB"))
        let session = ScenarioSession(output: { _ in })
        session.allowsFileAccess = false
        guard case .failed(let error) = session.execute("source x.moesim", file: "f", line: 1) else {
            Issue.record("source must be refused")
            return
        }
        #expect(error.message == "file access is off in this session")
    }
}
