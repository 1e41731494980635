import Tensors

/// Deterministic synthetic token sequences from a seeded Markov chain, so a small model can learn them.
///
/// Each token has `branching` preferred successors; a step follows one of them with probability
/// `followProbability` and otherwise jumps to a uniform random token.
public struct MarkovDataset: Sendable {
    /// Tokens are 0..<vocabularySize.
    public let vocabularySize: Int
    /// Tokens per sequence.
    public let sequenceLength: Int
    /// Fixes the transition table and every batch.
    public let seed: UInt64
    /// Chance that a step follows a preferred successor.
    public let followProbability: Float
    /// Preferred successors of each token.
    public let successors: [[Int]]

    /// A chain over `vocabularySize` tokens with `branching` preferred successors per token.
    public init(
        vocabularySize: Int, sequenceLength: Int, seed: UInt64, branching: Int = 2, followProbability: Float = 0.9
    ) throws {
        guard vocabularySize > 1, sequenceLength > 0, (1...vocabularySize).contains(branching) else {
            throw ModelError.invalidConfig(
                "Markov data: vocabulary \(vocabularySize), sequence length \(sequenceLength), branching \(branching)")
        }
        self.vocabularySize = vocabularySize
        self.sequenceLength = sequenceLength
        self.seed = seed
        self.followProbability = followProbability
        var generator = SplitMix64(seed: SplitMix64.derivedSeed(seed, stream: 0))
        successors = (0..<vocabularySize).map { _ in
            (0..<branching).map { _ in Int(generator.next() % UInt64(vocabularySize)) }
        }
    }

    /// Micro-batch `microBatch` of step `step`: `sequences` sequences, targets shifted by one token.
    ///
    /// Throws for a negative step or micro-batch index, or fewer than one sequence.
    public func batch(step: Int, microBatch: Int, sequences: Int) throws -> TokenBatch {
        guard step >= 0, microBatch >= 0, sequences >= 1 else {
            throw ModelError.invalidBatch(
                "Markov data: step \(step) and micro-batch \(microBatch) must be >= 0, sequences \(sequences) >= 1")
        }
        let stream = UInt64(step) &* 1_000_003 &+ UInt64(microBatch) &+ 1
        var generator = SplitMix64(seed: SplitMix64.derivedSeed(seed, stream: stream))
        var tokens: [Int] = []
        var targets: [Int] = []
        for _ in 0..<sequences {
            var token = Int(generator.next() % UInt64(vocabularySize))
            for _ in 0..<sequenceLength {
                let next = nextToken(after: token, generator: &generator)
                tokens.append(token)
                targets.append(next)
                token = next
            }
        }
        return try TokenBatch(tokens: tokens, targets: targets, sequenceLength: sequenceLength)
    }

    private func nextToken(after token: Int, generator: inout SplitMix64) -> Int {
        if generator.nextUnitFloat() < followProbability {
            let choices = successors[token]
            return choices[Int(generator.next() % UInt64(choices.count))]
        }
        return Int(generator.next() % UInt64(vocabularySize))
    }
}
