/// How the expert-parallel layer overlaps communication with its experts' compute.
public enum EPMode: String, Sendable, CaseIterable {
    /// Dispatch, Linear-1, SwiGLU, Linear-2, combine in sequence (DeepGEMM's "legacy" baseline).
    case serial
    /// Dispatch overlapped with Linear-1 (local rows first, each source's rows as they arrive), Linear-2 with
    /// combine (column blocks sent as they finish), each within its half (Comet, MLSys'25).
    case comet
    /// Consecutive local experts in waves: a wave's Linear-1 starts when all its rows arrived, its results
    /// return while the next wave computes (DeepSeek-V4 §3.1, DeepGEMM Mega MoE).
    case waved
}

/// The waves of one layer call: consecutive local experts, `expertsPerWave` at a time.
public struct WavePlan: Sendable, Hashable, CustomStringConvertible {
    /// Experts on each rank.
    public let localExperts: Int
    /// Experts in every wave (a divisor of `localExperts`).
    public let expertsPerWave: Int
    /// Expected rows per local expert, tokens per rank · top-k / local experts.
    public let expectedTokensPerExpert: Double
    /// The heuristic's block_m and Linear-1 blocks per expert (nil when it put every expert in one wave or
    /// an override set the plan).
    public let blockM: Int?
    public let blocksPerExpert: Int?
    /// Where the plan came from: "heuristic", "waves=N" or "experts-per-wave=N".
    public let origin: String

    /// Waves in the plan.
    public var waveCount: Int { localExperts / expertsPerWave }

    /// The local expert indices of wave `index`.
    public func experts(ofWave index: Int) -> Range<Int> {
        (index * expertsPerWave)..<((index + 1) * expertsPerWave)
    }

    /// The most waves one call may have (each wave's messages take their own tags).
    public static let maxWaves = 256

    /// BLOCK_N of the Linear-1 GEMM.
    public static let blockN = 128

    /// DeepGEMM PR #316's rule: one wave when fewer than one row per expert is expected; else the smallest
    /// experts-per-wave whose Linear-1 blocks (block_m from the expected rows, 2·width/128 column blocks per
    /// expert) fill twice the SMs, capped at the local experts and raised to a divisor of them.
    public static func heuristic(
        tokensPerRank: Double, topK: Int, localExperts: Int, expertWidth: Int, smCount: Int
    ) -> WavePlan {
        let expected = tokensPerRank * Double(topK) / Double(localExperts)
        guard expected >= 1 else {
            return WavePlan(
                localExperts: localExperts, expertsPerWave: localExperts, expectedTokensPerExpert: expected,
                blockM: nil, blocksPerExpert: nil, origin: "heuristic")
        }
        let blockM = Self.blockM(forExpected: expected)
        let rowBlocks = (Int(expected.rounded(.up)) + blockM - 1) / blockM
        let blocks = rowBlocks * max(1, (2 * expertWidth + blockN - 1) / blockN)
        let wanted = min(localExperts, (2 * smCount + blocks - 1) / blocks)
        return WavePlan(
            localExperts: localExperts, expertsPerWave: divisor(atLeast: wanted, of: localExperts),
            expectedTokensPerExpert: expected, blockM: blockM, blocksPerExpert: blocks, origin: "heuristic")
    }

    /// block_m for `expected` rows per expert (PR #316's table).
    public static func blockM(forExpected expected: Double) -> Int {
        let table: [(Double, Int)] = [(8.5, 16), (16.5, 32), (32.5, 64), (64.5, 96), (96.5, 128)]
        return table.first { expected <= $0.0 }?.1 ?? 192
    }

    /// The smallest divisor of `count` that is at least `value` and leaves at most `maxWaves` waves.
    static func divisor(atLeast value: Int, of count: Int) -> Int {
        let floor = max(value, 1, (count + maxWaves - 1) / maxWaves)
        return (floor...count).first { count % $0 == 0 } ?? count
    }

    /// The plan of `mode`: one wave unless waved; waved takes `waves` or `expertsPerWave` when given (at most
    /// one), else the heuristic. Throws naming the override that does not fit the local experts.
    public static func resolve(
        mode: EPMode, waves: Int?, expertsPerWave: Int?, tokensPerRank: Double, topK: Int, localExperts: Int,
        expertWidth: Int, smCount: Int
    ) throws -> WavePlan {
        try validate(waves: waves, expertsPerWave: expertsPerWave, localExperts: localExperts)
        let expected = tokensPerRank * Double(topK) / Double(localExperts)
        func fixed(_ perWave: Int, _ origin: String) -> WavePlan {
            WavePlan(
                localExperts: localExperts, expertsPerWave: perWave, expectedTokensPerExpert: expected, blockM: nil,
                blocksPerExpert: nil, origin: origin)
        }
        guard mode == .waved else { return fixed(localExperts, "\(mode.rawValue): one wave") }
        if let waves { return fixed(localExperts / waves, "waves=\(waves)") }
        if let expertsPerWave { return fixed(expertsPerWave, "experts-per-wave=\(expertsPerWave)") }
        return heuristic(
            tokensPerRank: tokensPerRank, topK: topK, localExperts: localExperts, expertWidth: expertWidth,
            smCount: smCount)
    }

    /// Throws naming `waves` or `experts-per-wave` when it does not split `localExperts` evenly.
    public static func validate(waves: Int?, expertsPerWave: Int?, localExperts: Int) throws {
        if waves != nil, expertsPerWave != nil {
            throw ExpertParallelError.invalid(
                "waves", "\(waves ?? 0)", "give waves= or experts-per-wave=, not both")
        }
        if let waves {
            guard waves >= 1, waves <= localExperts else {
                throw ExpertParallelError.invalid(
                    "waves", "\(waves)", "must be in 1...\(localExperts) (the experts on each rank)")
            }
            guard localExperts % waves == 0 else {
                throw ExpertParallelError.invalid(
                    "waves", "\(waves)", "must divide the \(localExperts) experts on each rank")
            }
            guard waves <= maxWaves else {
                throw ExpertParallelError.invalid("waves", "\(waves)", "at most \(maxWaves) waves")
            }
        }
        if let expertsPerWave {
            guard expertsPerWave >= 1, expertsPerWave <= localExperts, localExperts % expertsPerWave == 0 else {
                throw ExpertParallelError.invalid(
                    "experts-per-wave", "\(expertsPerWave)",
                    "must divide the \(localExperts) experts on each rank")
            }
            guard localExperts / expertsPerWave <= maxWaves else {
                throw ExpertParallelError.invalid(
                    "experts-per-wave", "\(expertsPerWave)", "leaves more than \(maxWaves) waves")
            }
        }
    }

    /// "4 waves × 8 experts (heuristic: 96.0 rows/expert, block_m 128, 32 blocks/expert)".
    public var description: String {
        var text =
            "\(waveCount) wave\(waveCount == 1 ? "" : "s") × \(expertsPerWave) expert"
            + (expertsPerWave == 1 ? "" : "s") + " (\(origin)"
        text += ": \((expectedTokensPerExpert * 10).rounded() / 10) rows/expert"
        if let blockM, let blocksPerExpert { text += ", block_m \(blockM), \(blocksPerExpert) blocks/expert" }
        return text + ")"
    }
}
