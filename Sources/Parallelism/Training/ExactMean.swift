/// Per-part means of durations that add up to a total, rounded to the nanosecond so the means add up to it too.
enum ExactMean {
    /// The per-part mean of `rows` (each a duration per part, in nanoseconds): every part is its exact mean
    /// rounded down or up (the leftover nanoseconds go to the parts with the largest fractions, earlier parts
    /// first among equals); what the rows' sums miss of `total` is added to `leftoverPart`.
    static func of(_ rows: [[Int64]], total: Int64, leftoverPart: Int) -> [Int64] {
        guard let width = rows.first?.count else { return [] }
        let count = Int64(rows.count)
        let sums = (0..<width).map { part in rows.reduce(Int64(0)) { $0 + $1[part] } }
        var mean = sums.map { sum in
            let (quotient, remainder) = sum.quotientAndRemainder(dividingBy: count)
            // Round toward negative infinity so the fractions are in [0, 1).
            return remainder < 0 ? quotient - 1 : quotient
        }
        let fractions = (0..<width).map { sums[$0] - mean[$0] * count }
        let byFraction = (0..<width).sorted { fractions[$0] > fractions[$1] }
        var leftover = total - mean.reduce(0, +)
        for part in byFraction where leftover > 0 && fractions[part] > 0 {
            mean[part] += 1
            leftover -= 1
        }
        mean[leftoverPart] += leftover
        return mean
    }
}
