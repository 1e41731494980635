import Foundation
import Testing

@testable import Scenario

@Suite("Malformed moe and group lines")
struct MoEMalformedLineTests {
    static let base = "moe tokens=64 hidden=256 expert-hidden=64 experts=16 topk=4"
    /// Four experts per rank on the 16 GPUs of 2-nodes.
    static let four = "moe tokens=64 hidden=256 expert-hidden=64 experts=64 topk=4"

    /// Each malformed line (after `cluster preset=2-nodes`) and the error it must give, with its column.
    static let cases: [(line: String, error: String)] = [
        (four + " mode=fused", "t.moesim:1:66: error: 'fused' is not valid for mode (one of serial, comet, waved)"),
        (four + " mode=waved waves=3", "t.moesim:1:78: error: waves = 3: must divide the 4 experts on each rank"),
        (
            four + " mode=waved waves=8",
            "t.moesim:1:78: error: waves = 8: must be in 1...4 (the experts on each rank)"
        ),
        (
            four + " mode=waved experts-per-wave=3",
            "t.moesim:1:89: error: experts-per-wave = 3: must divide the 4 experts on each rank"
        ),
        (four + " waves=2", "t.moesim:1:67: error: waves and experts-per-wave need mode=waved"),
        (
            four + " mode=waved waves=2 experts-per-wave=2",
            "t.moesim:1:78: error: waves = 2: give waves= or experts-per-wave=, not both"
        ),
        (
            four + " expert-precision=fp16",
            "t.moesim:1:78: error: 'fp16' is not valid for expert-precision (one of bf16, fp8, fp4, fp4x4)"
        ),
        (
            four + " gemm-rates=measured",
            "t.moesim:1:72: error: 'measured' is not valid for gemm-rates (one of published, peak)"
        ),
        (four + " a2a=packets", "t.moesim:1:65: error: 'packets' is not valid for a2a (one of messages, flows)"),
        (
            four + " a2a=flows real",
            "t.moesim:1:65: error: a2a=flows models phantom rows only (flows carry no values); use phantom or "
                + "a2a=messages"
        ),
        (four + " preset=v5", "t.moesim:1:68: error: 'v5' is not valid for preset (one of v4-flash, v4-pro)"),
        ("moe hidden=256", "t.moesim:1:1: error: missing argument tokens=N"),
        (
            "moe tokens=64 hidden=256 expert-hidden=64 topk=4 experts=12",
            "t.moesim:1:58: error: experts = 12: must split evenly over the 16 ranks of the EP group"
        ),
        (
            "moe tokens=64 hidden=256 expert-hidden=64 experts=16 topk=17",
            "t.moesim:1:59: error: topk = 17: must be in 1...16 (the experts)"
        ),
        (base + " node-limit=3", "t.moesim:1:72: error: node-limit = 3: must be in 1...2 (the nodes of the group)"),
        (
            "moe tokens=64 hidden=200 expert-hidden=64 experts=16 topk=4",
            "t.moesim:1:22: error: hidden = 200: FP8 dispatch scales blocks of 128 values: use a multiple of 128 or BF16 dispatch (dispatch=bf16)"
        ),
        (
            "moe hidden=256 expert-hidden=64 experts=16 topk=4 tokens=999999",
            "t.moesim:1:58: error: 999999 is out of range (expected 1…65536)"
        ),
        (
            "moe tokens=8192 hidden=256 expert-hidden=64 experts=2048 topk=4",
            "t.moesim:1:12: error: tokens = 8192: ranks × tokens × experts (16 × 8192 × 2048) must be at most 134217728"
        ),
        (base + " dispatch=fp4", "t.moesim:1:70: error: 'fp4' is not valid for dispatch (one of fp8, bf16)"),
        (base + " skew=2", "t.moesim:1:66: error: skew = 2.0: must be in 0...1"),
        (base + " sideways", "t.moesim:1:61: error: expected 'backward', 'real' or 'phantom', not 'sideways'"),
        (
            base + " group=gpu0,gpu0",
            "t.moesim:1:67: error: bad group 'gpu0,gpu0': invalid communicator rank gpu0: appears more than once (all, node:N, rail:N, or a comma list of gpuN, gpuA-B, nodeN, nodeA-B)"
        ),
        (base + " group=gpu3-1", "t.moesim:1:67: error: bad range 'gpu3-1': expected gpuA-B with A <= B"),
        (base + " group=gpu0-99", "t.moesim:1:67: error: no GPU 'gpu99' (gpu0…gpu15)"),
        (base + " group=node0-5", "t.moesim:1:67: error: no node5 (node0…node1)"),
        (
            base + " group=pony",
            "t.moesim:1:67: error: bad group item 'pony' (all, node:N, rail:N, or a comma list of gpuN, gpuA-B, nodeN, nodeA-B)"
        ),
        (
            "collective all-reduce size=1MiB group=gpu2-x",
            "t.moesim:1:39: error: bad range 'gpu2-x': expected gpuA-B with A <= B"
        ),
        (
            "moe expert-hidden=64 experts=16 topk=4 real tokens=65536 hidden=1024",
            "t.moesim:1:52: error: tokens = 65536: real runs hold at most 16777216 token values (tokens × ranks × hidden); use phantom"
        ),
    ]

    @Test("each malformed moe or group line gives its exact error", arguments: cases.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.cases[index], after: ["cluster preset=2-nodes"])
    }

    @Test("dispatch=bf16 takes a hidden size FP8 refuses and sends 2 · hidden + 16 bytes per token and target")
    func bf16Dispatch() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("cluster preset=2-nodes") == .done)
        let line = "moe tokens=64 hidden=200 expert-hidden=64 experts=16 topk=1 group=gpu0-1 skew=1"
        #expect(session.execute(line + " dispatch=bf16 name=b") == .done)
        #expect(session.execute("run") == .done)
        // skew=1, top-1: gpu1's 64 tokens all go to expert 0 on gpu0, 416 bytes each (gpu0's stay home), and
        // come back as 400-byte BF16 rows: 52224 bytes (51 KiB), plus the few bytes of the counts exchange.
        #expect(session.execute("expect moe[b].nvlink_bytes >= 51KiB") == .done)
        #expect(session.execute("expect moe[b].nvlink_bytes < 52KiB") == .done)
    }

    @Test("group ranges and node selectors build the expected groups")
    func groupRanges() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("cluster preset=2-nodes") == .done)
        #expect(session.execute("collective all-reduce size=1MiB group=gpu0-3,gpu8-11") == .done)
        #expect(session.execute("collective all-reduce size=1MiB group=node1") == .done)
        #expect(session.execute(Self.base + " group=node0-1 name=a") == .done)
        #expect(session.execute("run") == .done)
        #expect(session.execute("expect moe[a].tokens.mean > 0") == .done)
        #expect(session.execute("expect collective.completed == 2") == .done)
    }
}
