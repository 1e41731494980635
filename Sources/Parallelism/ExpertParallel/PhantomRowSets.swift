import Tensors

/// The phantom row sets a rank builds in every call (per target or source rank, rows of a count and width,
/// shapes only), kept while the layouts they come from repeat: under the seeded gate every layer, micro-batch
/// and EP group of a run routes alike, so each call would otherwise allocate and free the same tensors again.
///
/// One set per purpose, rank, width and dtype: a call whose layouts (the same objects) and pattern match the kept
/// set's gets it back; any other call builds its own, which replaces it. Confined to the simulation's executor
/// like `PhantomRoutingCache`, so it needs no locking.
final class PhantomRowSets: @unchecked Sendable {
    /// Which rows of a call a set holds.
    enum Purpose: Hashable {
        /// The rank's rows per target rank (dispatch).
        case outgoing
        /// The rows each source sent the rank (flow-level dispatch).
        case dispatched
        /// The local experts' rows per source (before the combine).
        case bySource
        /// The rows each expert rank sent back (flow-level combine).
        case combined
        /// The rank's output gradients per target rank (backward dispatch).
        case gradients
    }

    private struct Key: Hashable {
        let purpose: Purpose
        let rank: Int
        let width: Int
        let dtype: DType
    }

    private struct Entry {
        let layouts: [SourceLayout]
        let pattern: [Bool]
        let rows: [Tensor?]
    }

    private var entries: [Key: Entry] = [:]  // lookup only, never iterated

    /// No sets yet.
    init() {}

    /// The set of `purpose` for `rank`, rows `width` wide in `dtype`, built from `layouts` (compared by
    /// identity) and `pattern` (what else it depends on): the kept one when both match, else `build()`'s.
    func rows(
        _ purpose: Purpose, rank: Int, width: Int, dtype: DType, layouts: some Collection<SourceLayout>,
        pattern: [Bool] = [], build: () throws -> [Tensor?]
    ) rethrows -> [Tensor?] {
        let key = Key(purpose: purpose, rank: rank, width: width, dtype: dtype)
        if let kept = entries[key], kept.pattern == pattern, kept.layouts.elementsEqual(layouts, by: ===) {
            return kept.rows
        }
        let rows = try build()
        entries[key] = Entry(layouts: Array(layouts), pattern: pattern, rows: rows)
        return rows
    }
}
