import Foundation
import Hardware
import SimCore

/// The kinds of link `show links kind=` filters on.
enum LinkKind: String, CaseIterable {
    /// A GPU's communication-SM egress (`gpuN.comm.out`).
    case comm
    /// A GPU's NVLink port or an NVSwitch port.
    case nvlink
    /// A NIC, leaf or spine port.
    case ib

    /// The kind of the link called `name`.
    init(linkName name: String) {
        if name.hasSuffix(".comm.out") {
            self = .comm
        } else if name.hasSuffix(".nvlink.out") || name.contains(".nvswitch.") {
            self = .nvlink
        } else {
            self = .ib
        }
    }
}

extension ClusterCommands {
    /// Above this many GPUs `show memory` summarises unless given `all`.
    static let memoryListLimit = 16
    /// How many of the fullest GPUs a summary lists.
    static let fullestGPUCount = 5
    /// The byte columns of `show memory`, one line each: header and what it reads from a GPU's HBM.
    static let memoryColumns: [(header: String, bytes: @Sendable (HBM) -> Int)] = {
        var columns: [(header: String, bytes: @Sendable (HBM) -> Int)] = [
            ("used", { $0.usedBytes }), ("peak", { $0.peakBytes }), ("capacity", { $0.capacityBytes }),
        ]
        // Per-kind columns are each kind's peak (what a training run charges by the ZeRO formulas).
        for (name, kind) in memoryKindNames { columns.append((name, { $0.peakBytes(kind) })) }
        return columns
    }()

    /// The memory kinds a training run charges, by the name `show memory` columns and `gpu[N].hbm.NAME`
    /// metrics use.
    static let memoryKindNames: [(name: String, kind: MemoryKind)] = [
        ("parameters", .parameters), ("gradients", .gradients), ("optimizer", .optimizerState),
        ("activations", .activations),
    ]

    func showLinks(_ line: CommandLine) throws {
        try line.check(allowedKeys: ["top", "sort", "kind"], maxPositionals: 1)
        let cluster = try requireCluster(line)
        let top = try line.integer("top", in: 1...1_000_000, default: 10)
        let sort = try line.choice("sort", ["util", "bytes", "name"], default: "util")
        let kind = try line.choice("kind", LinkKind.allCases.map(\.rawValue) + ["all"], default: "all")
        let now = session.simulation.now
        func utilisation(_ report: Cluster.LinkReport) -> Double { now > .start ? report.utilisation(to: now) : 0 }
        let used = cluster.linkReports().enumerated()
            .filter {
                $0.element.bytes > 0 && (kind == "all" || LinkKind(linkName: $0.element.name).rawValue == kind)
            }
            .map { (order: $0.offset, report: $0.element, utilisation: utilisation($0.element)) }
        guard !used.isEmpty else {
            let which = kind == "all" ? "link" : "\(kind) link"
            session.output("no \(which) has carried a byte yet (queue work with send or collective, then run)")
            return
        }
        let ranked = used.sorted { a, b in
            switch sort {
            case "bytes": (a.report.bytes, -a.order) > (b.report.bytes, -b.order)
            case "name": Self.naturalOrder(a.report.name, b.report.name)
            default: (a.utilisation, a.report.bytes, -a.order) > (b.utilisation, b.report.bytes, -b.order)
            }
        }
        // The busiest link of each kind: highest utilisation, then most bytes, then the first in cluster order.
        let busiest = LinkKind.allCases.compactMap { linkKind in
            used.filter { LinkKind(linkName: $0.report.name) == linkKind }
                .max {
                    ($0.utilisation, $0.report.bytes, -$0.order) < (
                        $1.utilisation, $1.report.bytes, -$1.order
                    )
                }
                .map { (kind: linkKind, entry: $0) }
        }
        var table = TextTable([
            .init("link", .left), .init("kind", .left), .init("bytes"), .init("busy"), .init("util"),
            .init("bandwidth"), .init("", .left),
        ])
        let shown = ranked.prefix(top)
        for entry in shown {
            let mark = busiest.first { $0.entry.order == entry.order }.map { "<- busiest \($0.kind.rawValue)" } ?? ""
            table.add([
                entry.report.name, LinkKind(linkName: entry.report.name).rawValue, bytes(entry.report.bytes),
                entry.report.stats.busyTime.description, String(format: "%.1f%%", entry.utilisation * 100),
                Quantity.format(entry.report.bytesPerSecond, .bandwidth), mark,
            ])
        }
        table.lines().forEach(session.output)
        let hidden = busiest.filter { best in !shown.contains { $0.order == best.entry.order } }
        if ranked.count > shown.count {
            let also = hidden.map {
                "\($0.kind.rawValue) \($0.entry.report.name) \(String(format: "%.1f%%", $0.entry.utilisation * 100))"
            }
            let busiestText = also.isEmpty ? "" : "; busiest not shown: " + also.joined(separator: ", ")
            session.output("(\(shown.count) of \(ranked.count) links that carried bytes\(busiestText))")
        }
    }

    /// Name order with digit runs compared as numbers (gpu2 before gpu10).
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        func parts(_ text: String) -> [(String, Int)] {
            var result: [(String, Int)] = []
            var letters = ""
            var digits = ""
            for character in text {
                if character.isASCII && character.isNumber {
                    digits.append(character)
                } else {
                    if !digits.isEmpty {
                        result.append((letters, Int(digits) ?? 0))
                        letters = ""
                        digits = ""
                    }
                    letters.append(character)
                }
            }
            result.append((letters, Int(digits) ?? -1))
            return result
        }
        let (left, right) = (parts(a), parts(b))
        for (x, y) in zip(left, right) where x != y { return x.0 != y.0 ? x.0 < y.0 : x.1 < y.1 }
        return left.count < right.count
    }

    func showMemory(_ line: CommandLine) throws {
        try line.check(allowedKeys: [], maxPositionals: 2)
        let cluster = try requireCluster(line)
        let listAll =
            try line.positionals.dropFirst().first.map { word throws(ScenarioError) -> Bool in
                guard word.text == "all" else {
                    throw line.error("expected 'all' or nothing, not '\(word.text)'", at: word)
                }
                return true
            } ?? false
        let reports = cluster.memoryReports()
        guard !listAll && reports.count > Self.memoryListLimit else {
            memoryTable(Array(reports.indices), reports).lines().forEach(session.output)
            return
        }
        session.output("\(reports.count) GPUs; 'show memory all' lists each")
        var summary = TextTable([.init("", .left)] + Self.memoryColumns.map { .init($0.header) })
        for (label, pick) in [("min", 0.0), ("median", 0.5), ("max", 1.0)] {
            summary.add(
                [label]
                    + Self.memoryColumns.map { column in
                        let sorted = reports.map(column.bytes).sorted()
                        return bytes(sorted[Int((Double(sorted.count - 1) * pick).rounded(.down))])
                    })
        }
        summary.lines().forEach(session.output)
        let fullest = reports.indices.filter { reports[$0].peakBytes > 0 }
            .sorted { (reports[$0].peakBytes, -$0) > (reports[$1].peakBytes, -$1) }
        guard !fullest.isEmpty else {
            session.output("no GPU has allocated HBM yet")
            return
        }
        session.output("fullest GPUs (by peak):")
        memoryTable(Array(fullest.prefix(Self.fullestGPUCount)), reports).lines().forEach(session.output)
    }

    private func memoryTable(_ indices: [Int], _ reports: [HBM]) -> TextTable {
        var table = TextTable([.init("gpu", .left)] + Self.memoryColumns.map { .init($0.header) })
        for index in indices {
            table.add(["gpu\(index)"] + Self.memoryColumns.map { bytes($0.bytes(reports[index])) })
        }
        return table
    }
}
