extension Timeline {
    /// The timeline with each lane cut to at most `maxSpansPerLane` rectangles: runs of spans shorter than a
    /// resolution `r`, with gaps under `r` between them, become one merged span (coloured by the category that
    /// covers most of it); `r` starts at twice the timeline's length over the budget and doubles until the lane
    /// fits. Lanes within budget are kept exactly.
    public func aggregated(maxSpansPerLane: Int) -> Timeline {
        let budget = max(1, maxSpansPerLane)
        let length = max(1, endNs - startNs)
        var result = self
        for index in result.lanes.indices where result.lanes[index].spans.count > budget {
            var resolution = max(1, 2 * length / Int64(budget))
            var merged = Self.merge(lanes[index].spans, resolution: resolution)
            while merged.count > budget {
                resolution *= 2
                merged = Self.merge(lanes[index].spans, resolution: resolution)
            }
            result.lanes[index].spans = merged
        }
        return result
    }

    /// The timeline with at most about `maxSpans` rectangles in all, shared evenly by the lanes (at least 8 each).
    public func aggregated(maxSpans: Int) -> Timeline {
        guard spanCount > maxSpans else { return self }
        return aggregated(maxSpansPerLane: max(8, maxSpans / max(1, lanes.count)))
    }

    static func merge(_ spans: [TimelineSpan], resolution: Int64) -> [TimelineSpan] {
        var out: [TimelineSpan] = []
        var index = 0
        while index < spans.count {
            let first = spans[index]
            index += 1
            guard first.durationNs < resolution else {
                out.append(first)
                continue
            }
            var group = [first]
            var groupEnd = first.endNs
            while index < spans.count, spans[index].durationNs < resolution,
                spans[index].startNs - groupEnd < resolution
            {
                groupEnd = max(groupEnd, spans[index].endNs)
                group.append(spans[index])
                index += 1
            }
            out.append(group.count == 1 ? first : combined(group, endNs: groupEnd))
        }
        return out
    }

    /// One span standing for `group`: named after its commonest name, coloured by the category covering most.
    private static func combined(_ group: [TimelineSpan], endNs: Int64) -> TimelineSpan {
        var coverage = [Int64](repeating: 0, count: SpanCategory.allCases.count)
        var names: [(name: String, count: Int)] = []
        var span = TimelineSpan(
            name: "", startNs: group[0].startNs, endNs: endNs, category: .kernel, recordIndex: nil,
            mergedCount: group.count, busyNs: 0)
        for member in group {
            coverage[SpanCategory.allCases.firstIndex(of: member.category) ?? 0] += member.durationNs
            span.busyNs += member.busyNs
            span.bytes += member.bytes
            span.flops += member.flops
            if let slot = names.firstIndex(where: { $0.name == member.name }) {
                names[slot].count += 1
            } else if names.count < 8 {
                names.append((member.name, 1))
            }
        }
        let top = coverage.indices.max { coverage[$0] < coverage[$1] || (coverage[$0] == coverage[$1] && $0 > $1) }
        span.category = SpanCategory.allCases[top ?? 0]
        span.name = names.max { $0.count < $1.count }?.name ?? group[0].name
        return span
    }
}
