extension Timeline {
    /// The timeline as text: a row per lane, `width` columns over `fromNs..<toNs`; each column shows the letter
    /// of the category covering most of it (`.` where nothing ran), then a legend of the letters used.
    public func textLines(width: Int, fromNs: Int64, toNs: Int64) -> [String] {
        let columns = max(1, width)
        let window = max(1, toNs - fromNs)
        let labelWidth = min(28, lanes.map { $0.group.count + $0.label.count + 1 }.max() ?? 4)
        var used = [Bool](repeating: false, count: SpanCategory.allCases.count)
        var lines: [String] = []
        let axisStart = TimeAxis.format(fromNs)
        let axisEnd = TimeAxis.format(toNs)
        let gap = max(1, columns - axisStart.count - axisEnd.count)
        lines.append(
            String(repeating: " ", count: labelWidth + 1) + axisStart + String(repeating: " ", count: gap) + axisEnd)
        var previousGroup: String?
        for lane in lanes {
            var coverage = [[Int64]](
                repeating: [Int64](repeating: 0, count: SpanCategory.allCases.count), count: columns)
            for span in lane.spans where span.endNs > fromNs && span.startNs < toNs {
                let category = SpanCategory.allCases.firstIndex(of: span.category) ?? 0
                let first = Int((max(span.startNs, fromNs) - fromNs) * Int64(columns) / window)
                let last = Int((min(span.endNs, toNs) - fromNs - 1) * Int64(columns) / window)
                for column in max(0, first)...min(columns - 1, max(first, last)) {
                    let cellStart = fromNs + Int64(column) * window / Int64(columns)
                    let cellEnd = fromNs + Int64(column + 1) * window / Int64(columns)
                    let overlap = min(span.endNs, cellEnd) - max(span.startNs, cellStart)
                    coverage[column][category] += max(overlap, span.durationNs == 0 ? 1 : 0)
                }
            }
            var row = ""
            for cell in coverage {
                guard let best = cell.indices.max(by: { cell[$0] < cell[$1] || (cell[$0] == cell[$1] && $0 > $1) }),
                    cell[best] > 0
                else {
                    row.append(".")
                    continue
                }
                used[best] = true
                row.append(SpanCategory.allCases[best].letter)
            }
            let group = lane.group == previousGroup ? String(repeating: " ", count: lane.group.count) : lane.group
            let name = group + " " + lane.label
            previousGroup = lane.group
            lines.append(
                String(name.prefix(labelWidth)).padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "|" + row
                    + "|")
        }
        let legend = SpanCategory.allCases.enumerated().filter { used[$0.offset] }.map {
            "\($0.element.letter) \($0.element.rawValue)"
        }
        lines.append("legend: " + (legend + [". idle"]).joined(separator: ", "))
        return lines
    }
}
