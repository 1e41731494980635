/// A collective as data: per rank, a buffer of numbered blocks and a straight-line list of sends, receives and
/// local steps. Pure: building and validating a plan needs no simulation; `CollectiveRunner` executes it on
/// the GPU actors.
///
/// Buffers are flat: a rank's input (any shape, flattened) is cut into `inputBlocks` in order, and its output
/// is the concatenation of `outputBlocks`. Sends start at once and are awaited at the end of the program (or by
/// `waitSends`); receives wait. Messages between two ranks with one tag arrive in the order they were sent.
public struct CollectivePlan: Sendable, Equatable {
    /// What a received message does to the blocks it lands in.
    public enum Combine: Sendable, Equatable {
        /// Overwrites the blocks.
        case store
        /// Adds the message to the blocks' values (incoming + local, element by element).
        case sum
    }

    /// One step of a rank's program.
    public enum Action: Sendable, Equatable {
        /// Starts sending the concatenation of `blocks` to rank `toRank` under `tag`.
        case send(blocks: [Int], toRank: Int, tag: Int)
        /// Waits for the next message from `fromRank` under `tag` and splits it over `blocks`.
        case receive(blocks: [Int], fromRank: Int, tag: Int, combine: Combine)
        /// Copies block `from` into block `to` (same element count).
        case copy(from: Int, to: Int)
        /// Multiplies block `block` by `factor` (the division of an average).
        case scale(block: Int, factor: Float)
        /// Waits until at most `leaving` of this rank's sends so far are still undelivered.
        case waitSends(leaving: Int)
    }

    /// What one rank does.
    public struct RankProgram: Sendable, Equatable {
        /// The element count of every block of the rank's buffer.
        public var blockElementCounts: [Int]
        /// The blocks the input fills, in order.
        public var inputBlocks: [Int]
        /// The blocks the output concatenates, in order.
        public var outputBlocks: [Int]
        /// The program, in order.
        public var actions: [Action]

        /// Elements the rank's input must have.
        public var inputElementCount: Int { inputBlocks.reduce(0) { $0 + blockElementCounts[$1] } }
        /// Elements of the rank's output.
        public var outputElementCount: Int { outputBlocks.reduce(0) { $0 + blockElementCounts[$1] } }

        /// A program over blocks of `blockElementCounts` elements.
        public init(blockElementCounts: [Int], inputBlocks: [Int], outputBlocks: [Int], actions: [Action]) {
            self.blockElementCounts = blockElementCounts
            self.inputBlocks = inputBlocks
            self.outputBlocks = outputBlocks
            self.actions = actions
        }

        /// The element count of `blocks` together.
        func elementCount(of blocks: [Int]) -> Int { blocks.reduce(0) { $0 + blockElementCounts[$1] } }
    }

    /// `ring all-reduce`, shown in traces and errors.
    public let name: String
    /// One program per rank.
    public let programs: [RankProgram]

    /// A plan from explicit programs; `validate()` checks that they fit together.
    public init(name: String, programs: [RankProgram]) {
        self.name = name
        self.programs = programs
    }

    /// The number of ranks.
    public var rankCount: Int { programs.count }

    /// Sends per rank (messages started), for inspecting a plan's shape.
    public var sendCounts: [Int] {
        programs.map { program in
            program.actions.count(where: { if case .send = $0 { true } else { false } })
        }
    }

    /// Throws unless every block index and rank is in range and, for every (sender, receiver, tag), the sends and
    /// receives pair up in order with equal element counts.
    public func validate() throws {
        var sends: [(source: Int, target: Int, tag: Int, order: Int, elements: Int)] = []
        var receives: [(source: Int, target: Int, tag: Int, order: Int, elements: Int)] = []
        for (rank, program) in programs.enumerated() {
            let blockRange = program.blockElementCounts.indices
            func check(_ blocks: [Int], _ what: String) throws {
                if let bad = blocks.first(where: { !blockRange.contains($0) }) {
                    throw CollectiveError.invalidArgument(
                        name: "\(name) rank \(rank) \(what) block", value: "\(bad)",
                        reason: "the rank has blocks 0..<\(blockRange.count)")
                }
            }
            func checkPeer(_ peer: Int) throws {
                try CollectiveError.require(
                    programs.indices.contains(peer) && peer != rank, "\(name) rank \(rank) peer", peer,
                    "must be another rank in 0..<\(rankCount)")
            }
            try check(program.inputBlocks, "input")
            try check(program.outputBlocks, "output")
            for (order, action) in program.actions.enumerated() {
                switch action {
                case .send(let blocks, let peer, let tag):
                    try check(blocks, "send")
                    try checkPeer(peer)
                    try CollectiveError.require(!blocks.isEmpty, "\(name) rank \(rank) send", "[]", "sends no block")
                    sends.append((rank, peer, tag, order, program.elementCount(of: blocks)))
                case .receive(let blocks, let peer, let tag, _):
                    try check(blocks, "receive")
                    try checkPeer(peer)
                    receives.append((peer, rank, tag, order, program.elementCount(of: blocks)))
                case .copy(let from, let to):
                    try check([from, to], "copy")
                    try CollectiveError.require(
                        program.blockElementCounts[from] == program.blockElementCounts[to],
                        "\(name) rank \(rank) copy", "\(from) -> \(to)", "blocks differ in size")
                case .scale(let block, _):
                    try check([block], "scale")
                case .waitSends: break
                }
            }
        }
        func ordered(_ list: [(source: Int, target: Int, tag: Int, order: Int, elements: Int)]) -> [[Int]] {
            list.sorted { ($0.source, $0.target, $0.tag, $0.order) < ($1.source, $1.target, $1.tag, $1.order) }
                .map { [$0.source, $0.target, $0.tag, $0.elements] }
        }
        let sent = ordered(sends)
        let received = ordered(receives)
        guard sent != received else { return }
        let index =
            zip(sent, received).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(sent.count, received.count)
        func describe(_ list: [[Int]]) -> String { index < list.count ? "\(list[index])" : "nothing" }
        throw CollectiveError.invalidArgument(
            name: "\(name) message \(index)", value: "sent \(describe(sent)), received \(describe(received))",
            reason: "sends and receives must pair up as [source, target, tag, elements]")
    }

    /// `count` elements cut into `parts` pieces whose sizes differ by at most one, the larger ones first.
    public static func evenSplit(_ count: Int, into parts: Int) -> [Int] {
        (0..<parts).map { count / parts + ($0 < count % parts ? 1 : 0) }
    }
}
