/// A plain-text table whose column widths follow the data: headers and cells padded to the widest entry of
/// each column, two spaces between columns, trailing spaces trimmed.
public struct TextTable {
    /// How a column's cells line up.
    public enum Alignment: Sendable {
        case left
        case right
    }

    /// A column's header and alignment.
    public struct Column: Sendable {
        public var header: String
        public var alignment: Alignment

        public init(_ header: String, _ alignment: Alignment = .right) {
            self.header = header
            self.alignment = alignment
        }
    }

    public var columns: [Column]
    public private(set) var rows: [[String]] = []

    /// An empty table with `columns`.
    public init(_ columns: [Column]) { self.columns = columns }

    /// Appends a row; missing cells are blank, extra cells are dropped.
    public mutating func add(_ cells: [String]) {
        rows.append((0..<columns.count).map { $0 < cells.count ? cells[$0] : "" })
    }

    /// The header line followed by one line per row.
    public func lines() -> [String] {
        let widths = columns.indices.map { index in
            max(columns[index].header.count, rows.map { $0[index].count }.max() ?? 0)
        }
        func render(_ cells: [String]) -> String {
            let padded = cells.indices.map { index in
                let gap = String(repeating: " ", count: widths[index] - cells[index].count)
                return columns[index].alignment == .left ? cells[index] + gap : gap + cells[index]
            }
            var line = padded.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        return [render(columns.map(\.header))] + rows.map(render)
    }
}
