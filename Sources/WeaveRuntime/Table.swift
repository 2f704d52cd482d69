import Foundation

/// What a `swift table=NAME` stage evaluates to: a header and rows of already-formatted cells.
/// Formatting is the author's choice (digits, units), so the weaver renders cells verbatim.
public struct Table: Codable, Sendable, Equatable {
    /// Header cells.
    public var columns: [String]
    /// Body rows, each a list of cells (formatted by the author).
    public var rows: [[String]]
    /// Column alignment by index, "left" or "right"; numbers usually read best right-aligned.
    public var alignments: [String]?

    /// A table; see the properties.
    public init(columns: [String], rows: [[String]], alignments: [String]? = nil) {
        self.columns = columns
        self.rows = rows
        self.alignments = alignments
    }

    /// A table from values and named cell formatters, e.g.
    /// `Table(results, ["model": { $0.name }, ...])` is ambiguous in order, hence the array.
    public init<Row>(_ values: [Row], columns: [(String, (Row) -> String)]) {
        self.columns = columns.map(\.0)
        self.rows = values.map { value in columns.map { $0.1(value) } }
        self.alignments = nil
    }
}
