import Foundation

/// Renders a `Timeline` as one self-contained HTML page: an inline SVG (a lane per GPU's compute and comm SMs,
/// optionally its links; spans coloured by `SpanCategory`; a time axis), a legend, and a small script for zoom,
/// pan and hover details. No network, no external URL: the page opens from disk anywhere.
public struct TimelineHTML {
    public var timeline: Timeline
    /// The page's heading.
    public var title: String
    /// Lines under the heading (cluster, run, trace hash, …).
    public var notes: [String]

    /// Width of the lane labels, px.
    static let labelWidth = 190
    /// Height of one lane, px.
    static let laneHeight = 16
    /// Height of the time axis above the lanes, px.
    static let axisHeight = 26
    /// Initial width of the plot area, px (the script fits it to the window).
    static let plotWidth = 1380

    public init(timeline: Timeline, title: String, notes: [String] = []) {
        self.timeline = timeline
        self.title = title
        self.notes = notes
    }

    /// The whole page.
    public func render() -> String {
        var page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n"
        page += "<title>\(Self.escape(title))</title>\n<style>\n\(Self.styleSheet)</style></head>\n<body>\n"
        page += "<h1>\(Self.escape(title))</h1>\n"
        for note in notes { page += "<p class=\"note\">\(Self.escape(note))</p>\n" }
        page += legend()
        page += "<div id=\"tools\"><button id=\"zin\">zoom in</button><button id=\"zout\">zoom out</button>"
        page += "<button id=\"reset\">reset</button> <span>wheel: zoom · drag: pan · double-click: reset</span></div>\n"
        page += svg()
        page += "\n<div id=\"tip\"></div>\n<script>\n\(Self.script)</script>\n</body></html>\n"
        return page
    }

    /// The legend: a swatch per category present (in `SpanCategory` order).
    func legend() -> String {
        var present = [Bool](repeating: false, count: SpanCategory.allCases.count)
        for lane in timeline.lanes {
            for span in lane.spans { present[SpanCategory.allCases.firstIndex(of: span.category) ?? 0] = true }
        }
        var html = "<div id=\"legend\">"
        for (index, category) in SpanCategory.allCases.enumerated() where present[index] {
            html += "<span class=\"key\"><i class=\"\(category.cssClass)\"></i>\(Self.escape(category.label))</span>"
        }
        return html + "</div>\n"
    }

    /// The inline SVG: labels, axis, and the zoomable plot of lanes and spans. Plot x is time in units of
    /// `data-unit-ns` nanoseconds (a power of ten keeping the whole run under a million units, since browsers
    /// clamp larger coordinates), written as exact decimals.
    func svg() -> String {
        let lanesHeight = timeline.lanes.count * Self.laneHeight
        let width = Self.labelWidth + Self.plotWidth + 10
        let height = Self.axisHeight + lanesHeight + 4
        let length = max(1, timeline.endNs - timeline.startNs)
        let scale = PlotScale(lengthNs: length)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" width=\"\(width)\" height=\"\(height)\""
        out += " data-start=\"\(timeline.startNs)\" data-end=\"\(timeline.endNs)\" data-unit-ns=\"\(scale.unitNs)\""
        out += " data-label-width=\"\(Self.labelWidth)\" data-axis-height=\"\(Self.axisHeight)\""
        out += " data-lane-height=\"\(Self.laneHeight)\""
        out += " font-family=\"sans-serif\" font-size=\"11\">\n"
        out += labels()
        out += "<g id=\"axis\" transform=\"translate(\(Self.labelWidth),0)\">\(axis(length: length))</g>\n"
        out += "<svg id=\"plot\" x=\"\(Self.labelWidth)\" y=\"\(Self.axisHeight)\" width=\"\(Self.plotWidth)\""
        out += " height=\"\(lanesHeight)\" viewBox=\"0 0 \(scale.units(length)) \(lanesHeight)\""
        out += " preserveAspectRatio=\"none\" shape-rendering=\"crispEdges\">\n"
        for (index, lane) in timeline.lanes.enumerated() {
            out += laneGroup(lane, index: index, length: length, scale: scale)
        }
        // Micro-batch numbers over wide enough spans, drawn by the script (text cannot live in the stretched plot).
        out += "</svg>\n<g id=\"mb\" transform=\"translate(\(Self.labelWidth),\(Self.axisHeight))\"></g>\n</svg>"
        return out
    }

    private func labels() -> String {
        var out = "<g id=\"labels\">\n"
        var previousGroup: String?
        for (index, lane) in timeline.lanes.enumerated() {
            let y = Self.axisHeight + index * Self.laneHeight + Self.laneHeight - 4
            if lane.group != previousGroup {
                out += "<text x=\"4\" y=\"\(y)\" class=\"group\">\(Self.escape(lane.group))</text>"
                let top = Self.axisHeight + index * Self.laneHeight
                out +=
                    "<line x1=\"0\" x2=\"\(Self.labelWidth + Self.plotWidth)\" y1=\"\(top)\" y2=\"\(top)\" class=\"sep\"/>"
            }
            previousGroup = lane.group
            out +=
                "<text x=\"\(Self.labelWidth - 6)\" y=\"\(y)\" text-anchor=\"end\">\(Self.escape(lane.label))</text>\n"
        }
        return out + "</g>\n"
    }

    /// Static ticks for the whole timeline (the script redraws them on zoom, with the same rule).
    private func axis(length: Int64) -> String {
        let ticks = TimeAxis.ticks(fromNs: 0, toNs: length, maxTicks: 10)
        var out = ""
        for tick in ticks {
            let x = Double(tick.ns) / Double(length) * Double(Self.plotWidth)
            let shown = String(format: "%.1f", x)
            out +=
                "<line x1=\"\(shown)\" x2=\"\(shown)\" y1=\"\(Self.axisHeight - 6)\" y2=\"\(Self.axisHeight)\" class=\"tick\"/>"
            out += "<text x=\"\(shown)\" y=\"\(Self.axisHeight - 9)\" text-anchor=\"middle\">\(tick.label)</text>"
        }
        return out
    }

    private func laneGroup(_ lane: TimelineLane, index: Int, length: Int64, scale: PlotScale) -> String {
        let top = index * Self.laneHeight
        var out = "<rect x=\"0\" y=\"\(top)\" width=\"\(scale.units(length))\" height=\"\(Self.laneHeight)\""
        out += " class=\"bg\(index % 2)\"/>\n"
        out += "<g class=\"lane\" data-lane=\"\(index)\" data-name=\"\(Self.escape(lane.group + " " + lane.label))\""
        out += " transform=\"translate(0,\(top + 2))\">\n"
        let barHeight = Self.laneHeight - 4
        for span in lane.spans {
            let x = scale.units(span.startNs - timeline.startNs)
            out +=
                "<rect x=\"\(x)\" width=\"\(scale.units(span.durationNs))\" height=\"\(barHeight)\" class=\"\(span.category.cssClass)\""
            if let microBatch = span.microBatch, span.mergedCount == 1 { out += " data-mb=\"\(microBatch)\"" }
            if span.mergedCount > 1, span.durationNs > 0 {
                let density = Double(span.busyNs) / Double(span.durationNs)
                out += " fill-opacity=\"\(String(format: "%.2f", max(0.3, min(1, density))))\""
            }
            out += "><title>\(Self.escape(tooltip(span)))</title></rect>\n"
        }
        return out + "</g>\n"
    }

    /// Hover text: name (or merged count), times, FLOPs, bytes, micro-batch.
    func tooltip(_ span: TimelineSpan) -> String {
        var parts: [String] = []
        if span.mergedCount > 1 {
            let busy = span.durationNs > 0 ? Double(span.busyNs) / Double(span.durationNs) * 100 : 0
            parts.append(
                "\(span.mergedCount) spans, mostly \(span.name) (\(span.category.rawValue)), busy \(String(format: "%.0f", busy))%"
            )
        } else {
            parts.append("\(span.name) [\(span.category.rawValue)]")
        }
        parts.append(
            TimeAxis.format(span.startNs) + " → " + TimeAxis.format(span.endNs) + " ("
                + TimeAxis.format(span.durationNs) + ")")
        if let microBatch = span.microBatch { parts.append("micro-batch \(microBatch)") }
        if span.flops > 0 { parts.append(Self.flops(span.flops)) }
        if span.bytes > 0 { parts.append(Quantity.format(Double(span.bytes), .bytes)) }
        return parts.joined(separator: " · ")
    }

    static func flops(_ value: Double) -> String {
        for (scale, unit) in [(1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP"), (1e3, "kFLOP")]
        where value >= scale {
            return String(format: "%.3g ", value / scale) + unit
        }
        return String(format: "%.0f FLOP", value)
    }

    /// `text` with XML's special characters escaped (safe in element text and attribute values).
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Nanoseconds as plot units of 10^k ns, written as exact decimals (`297927.5` for 297 927 500 ns at k = 3).
struct PlotScale {
    let exponent: Int
    let unitNs: Int64

    init(lengthNs: Int64) {
        var exponent = 0
        var unit: Int64 = 1
        while lengthNs / unit > 1_000_000 {
            exponent += 1
            unit *= 10
        }
        self.exponent = exponent
        unitNs = unit
    }

    func units(_ ns: Int64) -> String {
        guard exponent > 0 else { return String(ns) }
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        var fraction = String(magnitude % UInt64(unitNs))
        fraction = String(repeating: "0", count: exponent - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(magnitude / UInt64(unitNs)) + (fraction.isEmpty ? "" : "." + fraction)
    }
}
