import Collectives
import Hardware

extension ClusterCommands {
    /// The group forms every command that takes `group=` accepts.
    static let groupSyntax = "all, node:N, rail:N, or a comma list of gpuN, gpuA-B, nodeN, nodeA-B"

    /// `group=…` as a communicator (default: every GPU): `all`, `node:N`, `rail:N`, or a comma list of
    /// `gpuN`, `gpuA-B`, `nodeN`, `nodeA-B` (ranks in the order written; a GPU may appear once).
    func parseGroup(_ line: CommandLine, cluster: Cluster, key: String = "group") throws(ScenarioError)
        -> Communicator
    {
        let token = line.option(key)
        let text = token?.text ?? "all"
        do {
            if text == "all" { return try Communicator.world(of: cluster) }
            if text.hasPrefix("node:"), let index = Int(text.dropFirst(5)) {
                return try Communicator.node(index, of: cluster)
            }
            if text.hasPrefix("rail:"), let index = Int(text.dropFirst(5)) {
                return try Communicator.rail(index, of: cluster)
            }
        } catch {
            throw line.error(String(describing: error), at: token ?? line.command)
        }
        var ranks: [GPUID] = []
        var column = token?.column ?? 1
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = Token(text: String(name), column: column, length: max(1, name.count), isQuoted: false)
            ranks += try groupItem(part, in: line, cluster: cluster).map(GPUID.init)
            column += name.count + 1
        }
        do {
            return try Communicator(cluster: cluster, ranks: ranks)
        } catch {
            throw line.error("bad group '\(text)': \(error) (\(Self.groupSyntax))", at: token ?? line.command)
        }
    }

    /// One item of a group list: `gpuN`, `gpuA-B` (also bare `N`, `A-B`, as `gpus=` takes them), `nodeN` or
    /// `nodeA-B` as global GPU indices; the range grammar is `IndexRange`'s.
    private func groupItem(_ part: Token, in line: CommandLine, cluster: Cluster) throws(ScenarioError) -> [Int] {
        let text = part.text
        let isNode = text.hasPrefix("node")
        guard isNode || text.hasPrefix("gpu") || text.first?.isNumber == true else {
            throw line.error("bad group item '\(text)' (\(Self.groupSyntax))", at: part)
        }
        let limit = isNode ? cluster.spec.nodeCount : cluster.gpus.count
        guard let range = IndexRange.parse(text, prefix: isNode ? "node" : "gpu") else {
            if !text.contains("-") {
                throw line.error(
                    isNode
                        ? "no node '\(text)' (node0…node\(limit - 1))"
                        : "no GPU '\(text)' (gpu0…gpu\(limit - 1))", at: part)
            }
            throw line.error("bad range '\(text)': expected \(isNode ? "nodeA-B" : "gpuA-B") with A <= B", at: part)
        }
        let (low, high) = (range.lowerBound, range.upperBound)
        let perNode = cluster.spec.gpusPerNode
        guard high < limit else {
            let what = isNode ? "node\(high) (node0…node\(limit - 1))" : "GPU 'gpu\(high)' (gpu0…gpu\(limit - 1))"
            throw line.error("no \(what)", at: part)
        }
        return isNode ? Array((low * perNode)..<((high + 1) * perNode)) : Array(low...high)
    }
}
