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
        (
            "print collective.last.time",
            "t.moesim:1:7: error: 'collective.last.time' has no value yet: nothing it measures has finished (queue the work, then run)"
        ),
        (
            "print collective[ar].busbw",
            "t.moesim:1:7: error: 'collective[ar].busbw' has no value: nothing called 'ar' has one now (none exists yet)"
        ),
        ("expect sim.now ~= 0", "t.moesim:1:16: error: '~=' is not a comparison (== != < <= > >=)"),
        ("cluster nvlink=0GB/s", "t.moesim:1:16: error: nvlink=0GB/s is too slow: a bandwidth must be at least 1MB/s"),
        ("cluster ib=10KB/s", "t.moesim:1:12: error: ib=10KB/s is too slow: a bandwidth must be at least 1MB/s"),
        ("quit now", "t.moesim:1:6: error: unexpected 'now' after 'quit' (see 'help quit')"),
        (
            "kernel gpu=0 flops=1e12 precision=fp8",
            "t.moesim:1:25: error: 'precision=' is now 'dtype=' (dtype=bf16|fp16|fp8), as in every command"
        ),
        (
            "kernel gpu=0 flops=1e12 dtype=fp32",
            "t.moesim:1:31: error: 'fp32' is not valid for dtype (one of bf16, fp16, fp8)"
        ),
        (
            "send from=gpu0 to=gpu1 size=1MiB dtype=fp64",
            "t.moesim:1:40: error: 'fp64' is not valid for dtype (one of fp32, bf16, fp16, fp8)"
        ),
        (
            "collective all-reduce size=1MiB name=a[1]",
            "t.moesim:1:38: error: 'a[1]' is not a usable name (letters, digits, - and _, at most 64)"
        ),
    ]

    @Test("each malformed line gives its exact error with line and column", arguments: cases.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.cases[index])
    }
}
