/// The one range grammar of GPU and node lists (`group=gpu0-7,node2`, `gpus=0-7,12`): an item is `N` or `A-B`
/// with A <= B, optionally after its prefix (`gpu3`, `gpu0-7`, `node1-2`).
enum IndexRange {
    /// The indices `item` names, its `prefix` dropped when present; nil unless it is `N` or `A-B`, A <= B, N ≥ 0.
    static func parse(_ item: some StringProtocol, prefix: String) -> ClosedRange<Int>? {
        let text = String(item)
        let body = text.hasPrefix(prefix) ? text.dropFirst(prefix.count) : Substring(text)
        let bounds = body.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
            let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high
        else { return nil }
        return low...high
    }
}
