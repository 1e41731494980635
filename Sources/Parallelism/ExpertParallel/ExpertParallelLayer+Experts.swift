import Hardware
import MoEModel
import Tensors

extension ExpertParallelLayer {
    /// Per local expert, the rows every source sent it, concatenated in source-rank order (the global token
    /// order of the single-device layer); nil for an expert that received nothing.
    func rowsByExpert(_ received: [Tensor?], layouts: [SourceLayout], rank: Int) throws -> [Tensor?] {
        let experts = placement.experts(ofRank: rank)
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

    /// The rank's experts on the rows they received: values for real, time charged on the compute SMs from the
    /// FLOPs of those rows.
    func runExperts(
        rank: Int, received: [Tensor?], layouts: [SourceLayout], parameters: ParameterSet, phantom: Bool
    ) async throws -> (outputs: [Tensor?], caches: [SwiGLUFFN.Cache?]) {
        let inputs = try rowsByExpert(received, layouts: layouts, rank: rank)
        let rows = inputs.reduce(0) { $0 + ($1?.rowCount ?? 0) }
        try await charge(expertKernel("experts F", rows: rows, experts: inputs.count { $0 != nil }), rank: rank)
        var outputs: [Tensor?] = []
        var caches: [SwiGLUFFN.Cache?] = []
        for (index, expert) in placement.experts(ofRank: rank).enumerated() {
            guard let input = inputs[index] else {
                outputs.append(nil)
                caches.append(nil)
                continue
            }
            if phantom {
                outputs.append(try Tensor(phantom: [input.rowCount, hiddenSize]))
                caches.append(nil)
            } else {
                let (output, cache) = try layer.routedExperts[expert].forward(input, parameters: parameters)
                outputs.append(output)
                caches.append(cache)
            }
        }
        return (try rowsBySource(outputs, layouts: layouts, rank: rank), caches)
    }
}
