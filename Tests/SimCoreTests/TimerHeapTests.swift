import Testing

@testable import SimCore

@Suite("Timer heap")
struct TimerHeapTests {
    @Test("interleaved inserts and removals come out in (deadline, sequence) order", arguments: [1, 2, 3] as [UInt64])
    func removalOrderIsSorted(seed: UInt64) {
        var random = Xoshiro256StarStar(seed: seed)
        var heap = TimerHeap()
        var pending: [Timer] = []
        var removed: [Timer] = []
        var sequence: UInt64 = 0
        for round in 0..<200 {
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                // Few distinct deadlines, so equal deadlines (ordered by sequence) are common.
                let timer = Timer(deadlineNs: Int64.random(in: 0...40, using: &random), sequence: sequence, job: nil)
                sequence += 1
                heap.insert(timer)
                pending.append(timer)
            }
            let removals = round == 199 ? heap.count : Int.random(in: 0...heap.count, using: &random)
            for _ in 0..<removals {
                let next = heap.removeFirst()
                let expected = pending.min { $0.precedes($1) }
                #expect(next.sequence == expected?.sequence)
                pending.removeAll { $0.sequence == next.sequence }
                removed.append(next)
            }
        }
        #expect(heap.isEmpty && pending.isEmpty)
        #expect(removed.count == Int(sequence))
    }
}
