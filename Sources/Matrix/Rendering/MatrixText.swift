import Reports
import Runner

/// The matrix for a terminal or a CI log: a row per case, a column per policy, each cell the
/// outcome in a few words over the reply behind it; the marks, the expectation failures, what did
/// not run, and the counts.
public struct MatrixText: Sendable {
    public var terminal: Terminal
    /// The widest a cell's reply line may be before it is cut with "…" (labels are never cut).
    public var replyWidth: Int

    public init(terminal: Terminal, replyWidth: Int = 44) {
        self.terminal = terminal
        self.replyWidth = replyWidth
    }

    static let differsMark = "≠"
    static let holdsMark = "✓"
    static let failsMark = "✗"

    public static let legend = """
        ≠  the cell ends differently from the row's most common outcome (on a tie, the first column's)
        ✓ ✗  the case's own policy: its expect holds / fails (expect is judged only there; other columns show what would happen)
        """

    public func render(_ matrix: Matrix) -> String {
        var out: [String] = []
        let receiver = matrix.receiverName
        if matrix.isIdentityMatrix {
            out.append(
                terminal.bold(
                    "Identity paths: \(plural(matrix.rows.count, "case")) × \(plural(matrix.columns.count, "path")) on \(receiver)"
                ))
        } else if matrix.isTLSMatrix {
            out.append(
                terminal.bold(
                    "TLS levels: \(plural(matrix.rows.count, "case")) × \(plural(matrix.columns.count, "sender level")) on \(receiver)"
                ))
        } else {
            out.append(
                terminal.bold(
                    "Policy matrix: \(plural(matrix.rows.count, "case")) × \(plural(matrix.columns.count, "policy", "policies")) on \(receiver)"
                ))
        }
        let nameWidth = matrix.columns.map(\.name.count).max() ?? 0
        for column in matrix.columns {
            out.append("  " + pad(column.name, nameWidth) + "  " + terminal.dim(column.summary))
        }
        out.append("")
        out.append(table(matrix))
        out.append("")
        out.append(terminal.dim(Self.legend))
        let notes = noteLines(matrix)
        if !notes.isEmpty {
            out.append("")
            out.append(
                terminal.bold(
                    matrix.isTLSMatrix
                        ? "Where a level's verdict differs from the case's own level's:"
                        : "Where a path's verdict differs from the direct connection's:"))
            out.append(contentsOf: notes.map { "  " + $0 })
        }
        let failures = expectationFailures(matrix)
        if !failures.isEmpty {
            out.append("")
            out.append(failures)
        }
        let notRun = notRunLines(matrix)
        if !notRun.isEmpty {
            out.append("")
            out.append(terminal.bold("Not run:"))
            out.append(contentsOf: notRun.map { "  " + $0 })
        }
        out.append("")
        out.append(summaryLine(matrix.summary))
        return out.joined(separator: "\n")
    }

    /// The table alone.
    public func table(_ matrix: Matrix) -> String {
        // Each cell: the label with its marks, and the reply line under it.
        struct Cell {
            var label: String
            var marks: String
            var reply: String
            var outcome: CellOutcome
            var verdict: CellVerdict
        }
        var grid: [[Cell]] = []
        var rowMarks: [Bool] = []
        for row in matrix.rows {
            let differing = row.differingCells
            rowMarks.append(row.differs)
            grid.append(
                row.cells.enumerated().map { index, cell in
                    var marks: [String] = []
                    if differing.contains(index) { marks.append(Self.differsMark) }
                    switch cell.verdict {
                    case .holds: marks.append(Self.holdsMark)
                    case .fails: marks.append(Self.failsMark)
                    case .notJudged: break
                    }
                    return Cell(
                        label: cell.outcome.label, marks: marks.joined(separator: " "), reply: cell.outcome.replyLine,
                        outcome: cell.outcome, verdict: cell.verdict)
                })
        }
        let caseWidth = max(4, matrix.rows.map(\.name.count).max() ?? 0)
        var widths: [Int] = matrix.columns.map(\.name.count)
        for cells in grid {
            for (index, cell) in cells.enumerated() where widths.indices.contains(index) {
                let labelWidth = cell.label.count + (cell.marks.isEmpty ? 0 : cell.marks.count + 1)
                widths[index] = max(widths[index], labelWidth, min(cell.reply.count, replyWidth))
            }
        }
        let separator = " │ "
        var lines: [String] = []
        let header =
            "   " + pad("case", caseWidth) + separator
            + matrix.columns.enumerated().map { pad($0.element.name, widths[$0.offset]) }.joined(separator: separator)
        lines.append(terminal.bold(trimEnd(header)))
        lines.append(String(repeating: "─", count: 3 + caseWidth + widths.reduce(0) { $0 + $1 + separator.count }))
        for (rowIndex, row) in matrix.rows.enumerated() {
            let cells = grid[rowIndex]
            let mark = rowMarks[rowIndex] ? terminal.yellow(Self.differsMark) + "  " : "   "
            var first = mark + pad(row.name, caseWidth)
            var second = "   " + String(repeating: " ", count: caseWidth)
            for (index, cell) in cells.enumerated() where widths.indices.contains(index) {
                let width = widths[index]
                let plain = cell.marks.isEmpty ? cell.label : cell.label + " " + cell.marks
                var painted = paint(cell.label, cell.outcome)
                if !cell.marks.isEmpty {
                    var marks = cell.marks.replacingOccurrences(
                        of: Self.differsMark, with: terminal.yellow(Self.differsMark))
                    marks = marks.replacingOccurrences(of: Self.failsMark, with: terminal.red(Self.failsMark))
                    painted += " " + marks
                }
                first += separator + painted + String(repeating: " ", count: max(0, width - plain.count))
                second += separator + terminal.dim(pad(clip(cell.reply, width), width))
            }
            lines.append(trimEnd(first))
            lines.append(trimEnd(second))
        }
        return lines.joined(separator: "\n")
    }

    /// `case  path: why`, one line for each cell with a note (`MatrixCell.note`).
    public func noteLines(_ matrix: Matrix) -> [String] {
        let width = matrix.rows.map(\.name.count).max() ?? 0
        return matrix.rows.flatMap { row in
            zip(matrix.columns, row.cells).compactMap { column, cell in
                cell.note.map {
                    terminal.yellow(Self.differsMark) + " " + pad(row.name, width) + "  " + column.name + ": " + $0
                }
            }
        }
    }

    /// Each own-policy cell whose `expect` fails, with its mismatches; empty when there is none.
    public func expectationFailures(_ matrix: Matrix) -> String {
        let failures = matrix.expectationFailures
        guard !failures.isEmpty else { return "" }
        var out = [terminal.bold("Expectations that fail (in the column of the case's own policy):")]
        for failure in failures {
            let at = failure.row.location.map { " (\($0))" } ?? ""
            out.append("  \(terminal.red(Self.failsMark)) \(failure.row.name) [\(failure.column.name)]\(at)")
            for mismatch in failure.cell.mismatches { out.append("      " + terminal.red(mismatch.description)) }
        }
        return out.joined(separator: "\n")
    }

    /// Cells that did not run, grouped by column and reason.
    func notRunLines(_ matrix: Matrix) -> [String] {
        var groups: [(column: String, status: CellOutcome.Status, reason: String, count: Int)] = []
        for row in matrix.rows {
            for (column, cell) in zip(matrix.columns, row.cells) where cell.outcome.status != .ran {
                let reason = cell.outcome.reason ?? ""
                if let index = groups.firstIndex(where: {
                    $0.column == column.name && $0.status == cell.outcome.status && $0.reason == reason
                }) {
                    groups[index].count += 1
                } else {
                    groups.append((column.name, cell.outcome.status, reason, 1))
                }
            }
        }
        return groups.map { group in
            let what = group.status == .skipped ? "skipped" : "could not run"
            let line = "\(group.column): \(plural(group.count, "cell")) \(what): \(group.reason)"
            return group.status == .error ? terminal.red(line) : terminal.yellow(line)
        }
    }

    public func summaryLine(_ summary: Matrix.Summary) -> String {
        let paths = summary.columnsArePaths == true, levels = summary.columnsAreTLSLevels == true
        let columns =
            paths
            ? plural(summary.columns, "identity path")
            : levels ? plural(summary.columns, "TLS level") : plural(summary.columns, "policy", "policies")
        var parts = [
            "matrix: \(plural(summary.cases, "case")) × \(columns), \(plural(summary.differingRows, "row")) \(summary.differingRows == 1 ? "differs" : "differ")"
        ]
        var expect =
            "expect in the \(paths ? "own-path" : levels ? "own-level" : "own-policy") column: \(summary.holds) passed, \(summary.fails) failed"
        if summary.withoutOwnColumn > 0 {
            expect += ", \(plural(summary.withoutOwnColumn, "case")) whose own policy is not a column"
        }
        parts.append(expect)
        parts.append("\(summary.skipped) skipped, \(summary.errors) could not run")
        let line = parts.joined(separator: "; ")
        return summary.fails > 0 || summary.errors > 0 ? terminal.red(line) : line
    }

    /// Only what changed against a baseline, with the reply before and after.
    public func renderComparison(_ comparison: BaselineComparison, baselinePath: String, comparedCells: Int) -> String {
        var out: [String] = []
        for note in comparison.notes { out.append(terminal.yellow("note: " + note)) }
        if comparison.isUnchanged {
            out.append("baseline \(baselinePath): no change in \(plural(comparedCells, "cell"))")
            return out.joined(separator: "\n")
        }
        out.append(terminal.bold("Changed against the baseline \(baselinePath):"))
        for change in comparison.changes {
            let kind: String
            switch change.kind {
            case .changed: kind = ""
            case .added: kind = terminal.dim("  (new: not in the baseline)")
            case .removed: kind = terminal.dim("  (gone: not in this run)")
            }
            out.append("  \(change.caseName) [\(change.column)]\(kind)")
            if let before = change.before { out.append("    before: " + describe(before)) }
            if let after = change.after { out.append("    after:  " + describe(after)) }
            if let before = change.before, let after = change.after, before.label == after.label,
                before.replyLine == after.replyLine
            {
                out.append("    attempts before: " + before.attempts.map(\.description).joined(separator: ", "))
                out.append("    attempts after:  " + after.attempts.map(\.description).joined(separator: ", "))
            }
        }
        let counts = Dictionary(grouping: comparison.changes, by: \.kind).mapValues(\.count)
        out.append("")
        out.append(
            terminal.red(
                "baseline: \(plural(counts[.changed] ?? 0, "cell")) changed, \(counts[.added] ?? 0) new, \(counts[.removed] ?? 0) gone "
                    + "(of \(plural(comparedCells, "cell")) run); review them, then update the baseline with --save-baseline"
            ))
        return out.joined(separator: "\n")
    }

    func describe(_ outcome: CellOutcome) -> String {
        paint(outcome.label, outcome) + "   " + outcome.replyLine
    }

    func paint(_ text: String, _ outcome: CellOutcome) -> String {
        switch (outcome.status, outcome.outcome) {
        case (.ran, .delivered?): terminal.green(text)
        case (.ran, .bounced?), (.error, _): terminal.red(text)
        case (.ran, .deferred?): terminal.yellow(text)
        default: terminal.dim(text)
        }
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    func trimEnd(_ text: String) -> String {
        var text = text
        while text.last == " " { text.removeLast() }
        return text
    }

    func plural(_ count: Int, _ word: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? word : plural ?? word + "s")"
    }
}
