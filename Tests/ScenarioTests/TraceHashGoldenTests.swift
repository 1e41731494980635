import Testing

@testable import Scenario

/// Recorded trace hashes of small fixed scenarios (fabric, faults and PXN, an EP layer, a DualPipe step): a
/// change that makes the emulator do anything different — another timeline, other trace contents or another
/// order — changes one of them. Optimisations must keep them, or (one that only reorders simultaneous records)
/// show that the exported trace's events, sorted, are unchanged; a deliberate model change updates them (run the
/// scenario with `moesim run` and a last line `show trace last=1`, which prints the hash).
@Suite("Trace hash goldens", .serialized)
struct TraceHashGoldenTests {
    struct Golden: Sendable, CustomStringConvertible {
        let name: String
        let lines: [String]
        let traceEvents: Int
        let hash: UInt64
        var description: String { name }
    }

    static let goldens = [
        Golden(
            name: "messages and collectives on 2 nodes",
            lines: [
                "cluster nodes=2", "send from=gpu0 to=gpu9 size=1MiB", "send from=gpu3 to=gpu12 size=300KiB",
                "collective all-to-all size=256KiB group=gpu0-15", "collective all-reduce size=1MiB group=rail:2",
                "run",
            ], traceEvents: 1235, hash: 0x6276_3682_25ea_a28c),
        Golden(
            name: "EP16 phantom layer",
            lines: [
                "cluster nodes=2",
                "moe tokens=128 hidden=512 expert-hidden=128 experts=64 topk=8 group=gpu0-15 name=ep", "run",
            ], traceEvents: 3056, hash: 0x15db_7909_85d0_6ae4),
        Golden(
            name: "DualPipe step on 4 GPUs with model costs",
            lines: ["train model=tiny pp=4 schedule=dualpipe microbatches=8 costs=model", "run"],
            traceEvents: 1034, hash: 0x0b86_bbc4_ffad_935a),
        Golden(
            name: "PXN routing around a down NIC",
            lines: [
                "cluster nodes=2 routing=pxn", "fault link=gpu1.nic.out down", "send from=gpu1 to=gpu10 size=2MiB",
                "collective all-to-all size=64KiB group=gpu0-15", "run",
            ], traceEvents: 1212, hash: 0x992d_aa56_3091_9fc3),
    ]

    @Test("each scenario's trace hash and event count equal the recorded ones", arguments: goldens)
    func recordedHash(_ golden: Golden) {
        let session = ScenarioSession(seed: 0, output: { _ in })
        for line in golden.lines {
            #expect(session.execute(line) == .done, "\(golden.name): '\(line)' failed")
        }
        let trace = session.simulation.trace
        #expect(trace.eventCount == golden.traceEvents, "\(golden.name)")
        #expect(trace.hash == golden.hash, "\(golden.name): hash \(String(trace.hash, radix: 16))")
    }
}
