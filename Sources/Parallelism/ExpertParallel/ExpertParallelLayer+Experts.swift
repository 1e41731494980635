import Hardware
import MoEModel
import Tensors

extension ExpertParallelLayer {
    /// Per local expert, the rows every source sent it, concatenated in source-rank order (the global token
    /// order of the single-device layer); nil for an expert that received nothing.
    func rowsByExpert(_ received: [Tensor?], layouts: [SourceLayout], rank: Int) throws -> [Tensor?] {
        let experts = placement.experts(ofRank: rank)
        if let sample = received.lazy.compactMap({ $0 }).first, sample.isPhantom {
            // Phantom rows carry only their counts: the same shapes without slicing and concatenating.
            return try experts.map { expert -> Tensor? in
                var rows = 0
                for (source, block) in received.enumerated() where block != nil {
                    rows += layouts[source].expertCounts[expert]
                }
                return rows == 0 ? nil : try Self.phantomRows(rows, like: sample)
            }
        }
        var parts = [[Tensor]](repeating: [], count: experts.count)
        for (source, block) in received.enumerated() {
            guard let block else { continue }
            var offset = 0
            for (index, expert) in experts.enumerated() {
                let count = layouts[source].expertCounts[expert]
                if count > 0 { parts[index].append(try block.slicingRows(offset..<(offset + count))) }
                offset += count
            }
        }
        return try parts.map { $0.isEmpty ? nil : ($0.count == 1 ? $0[0] : try Tensor.concatenatingRows($0)) }
    }

    /// The inverse of `rowsByExpert`: per source, its rows of every local expert in canonical order.
    func rowsBySource(_ byExpert: [Tensor?], layouts: [SourceLayout], rank: Int) throws -> [Tensor?] {
        let experts = placement.experts(ofRank: rank)
        if let sample = byExpert.lazy.compactMap({ $0 }).first, sample.isPhantom {
            func build() throws -> [Tensor?] {
                try layouts.map { layout -> Tensor? in
                    var rows = 0
                    for (index, expert) in experts.enumerated() where byExpert[index] != nil {
                        rows += layout.expertCounts[expert]
                    }
                    return rows == 0 ? nil : try Self.phantomRows(rows, like: sample)
                }
            }
            guard sample.rank == 2 else { return try build() }
            return try phantomRowSet(
                .bySource, rank: rank, width: sample.shape[1], dtype: sample.dtype, layouts: layouts,
                pattern: byExpert.map { $0 != nil }, build: build)
        }
        var offsets = [Int](repeating: 0, count: experts.count)
        return try layouts.map { layout -> Tensor? in
            var parts: [Tensor] = []
            for (index, expert) in experts.enumerated() {
                let count = layout.expertCounts[expert]
                guard count > 0, let rows = byExpert[index] else { continue }
                parts.append(try rows.slicingRows(offsets[index]..<(offsets[index] + count)))
                offsets[index] += count
            }
            return parts.isEmpty ? nil : (parts.count == 1 ? parts[0] : try Tensor.concatenatingRows(parts))
        }
    }

    /// `build()`'s phantom rows, kept in the run's phantom cache while `layouts` (the same objects) and `pattern`
    /// repeat (`PhantomRowSets`); without a cache, built every time.
    func phantomRowSet(
        _ purpose: PhantomRowSets.Purpose, rank: Int, width: Int, dtype: DType, layouts: some Collection<SourceLayout>,
        pattern: [Bool] = [], build: () throws -> [Tensor?]
    ) rethrows -> [Tensor?] {
        guard let sets = phantomCache?.rowSets else { return try build() }
        return try sets.rows(
            purpose, rank: rank, width: width, dtype: dtype, layouts: layouts, pattern: pattern, build: build)
    }

    /// `rows` phantom rows of `sample`'s width and dtype (what slicing or concatenating phantom rows gives).
    static func phantomRows(_ rows: Int, like sample: Tensor) throws -> Tensor {
        try Tensor(phantom: [rows] + sample.shape.dropFirst(), dtype: sample.dtype)
    }
}
