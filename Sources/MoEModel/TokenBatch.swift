/// One micro-batch: input tokens and next-token targets, grouped in sequences of equal length.
public struct TokenBatch: Sendable, Equatable {
    /// Input tokens, sequence after sequence.
    public let tokens: [Int]
    /// The token that follows each input token.
    public let targets: [Int]
    /// Tokens per sequence.
    public let sequenceLength: Int

    /// Throws unless tokens and targets have equal length, a whole number of sequences.
    public init(tokens: [Int], targets: [Int], sequenceLength: Int) throws {
        guard sequenceLength > 0, !tokens.isEmpty, tokens.count == targets.count,
            tokens.count % sequenceLength == 0
        else {
            throw ModelError.invalidBatch(
                "\(tokens.count) tokens, \(targets.count) targets, sequence length \(sequenceLength)")
        }
        self.tokens = tokens
        self.targets = targets
        self.sequenceLength = sequenceLength
    }

    /// Number of sequences in the batch.
    public var sequenceCount: Int { tokens.count / sequenceLength }
}
