/// How L layers are cut into S pipeline stages.
extension ModelStage {
    /// The layer ranges of `stages` contiguous stages over `layers` layers.
    ///
    /// Rule: every stage gets ⌊L/S⌋ or ⌈L/S⌉ layers. When S does not divide L, the S − (L mod S) stages with
    /// one layer fewer are the ones carrying extra work, taken in this order: the last stage (output head and
    /// loss), the first (embedding), then the second-to-last, the second, and so on inwards. DeepSeek-V3's 61
    /// layers over 16 stages: stages 0, 14 and 15 get 3 layers, the 13 others 4.
    /// Throws unless 1 ≤ S ≤ L.
    public static func layerRanges(layers: Int, stages: Int) throws -> [Range<Int>] {
        guard stages >= 1 else { throw ModelError.invalidConfig("\(stages) pipeline stages: need at least 1") }
        guard layers >= stages else {
            throw ModelError.invalidConfig("\(layers) layers cannot fill \(stages) pipeline stages (one layer each)")
        }
        let base = layers / stages
        let lighter = stages - layers % stages
        var counts = Array(repeating: base + 1, count: stages)
        for stage in lighterOrder(stages).prefix(lighter) { counts[stage] = base }
        var start = 0
        return counts.map { count in
            defer { start += count }
            return start..<(start + count)
        }
    }

    /// The stages of a model with `config` cut into `count` stages by `layerRanges`.
    public static func stages(of config: MoEConfig, count: Int) throws -> [ModelStage] {
        try layerRanges(layers: config.layerCount, stages: count).map { try ModelStage(config: config, layers: $0) }
    }

    /// Stage indices from the ends inwards: S−1, 0, S−2, 1, …
    private static func lighterOrder(_ stages: Int) -> [Int] {
        var order: [Int] = []
        var (low, high) = (0, stages - 1)
        while low <= high {
            order.append(high)
            if low != high { order.append(low) }
            (low, high) = (low + 1, high - 1)
        }
        return order
    }
}
