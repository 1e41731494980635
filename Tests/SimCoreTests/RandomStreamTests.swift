import Testing

@testable import SimCore

@Suite("Seeded randomness")
struct RandomStreamTests {
    @Test("SplitMix64 matches its published reference output for seed 0")
    func splitMixReference() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xe220_a839_7b1d_cdaf)
        #expect(generator.next() == 0x6e78_9e6a_a1b9_65f4)
    }

    @Test("a named stream depends only on the root seed and its own name")
    func streamsAreIndependent() {
        let streams = RandomStreams(rootSeed: 7)
        var first = streams.stream(named: "gpu3")
        var again = RandomStreams(rootSeed: 7).stream(named: "gpu3")
        let a = (0..<8).map { _ in first.next() }
        _ = streams.stream(named: "a new component")
        #expect((0..<8).map { _ in again.next() } == a)
        var other = streams.stream(named: "gpu4")
        #expect((0..<8).map { _ in other.next() } != a)
        var otherSeed = RandomStreams(rootSeed: 8).stream(named: "gpu3")
        #expect((0..<8).map { _ in otherSeed.next() } != a)
    }

    @Test("bounded integers stay in range and cover it")
    func boundedIntegers() {
        var generator = Xoshiro256StarStar(seed: 1)
        var seen = [Int](repeating: 0, count: 7)
        for _ in 0..<7_000 { seen[generator.nextInt(below: 7)] += 1 }
        #expect(seen.allSatisfy { $0 > 800 && $0 < 1_200 })
        let unit = (0..<1_000).map { _ in generator.nextUnitDouble() }
        #expect(unit.allSatisfy { $0 >= 0 && $0 < 1 })
    }
}
