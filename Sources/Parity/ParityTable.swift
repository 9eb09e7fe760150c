import Reports
import Runner

/// The parity table: one row per case, one column per side, the verdict last; then each
/// difference side by side, the MTA differences (exact replies that differ between sides that need
/// not agree on them), the skips grouped by side and reason, and a summary line. Columns are headed
/// with each side's display name (`ParityAxis.headings`); findings and skips name the sides as
/// `--targets`/`--sender` do.
public enum ParityTable {
    public static func render(_ rows: [ParityRow], axis: ParityAxis, parts: PartCatalog, terminal: Terminal)
        -> String
    {
        let labels = axis.labels
        let header = ["case"] + axis.headings(parts) + [""]
        var table: [[String]] = []
        var kinds: [Kind] = []
        var same = 0, differing = 0, skipped = 0
        for row in rows {
            let cells = row.results.map { result in
                switch result.status {
                case .skipped: "skipped"
                case .error: "error"
                case .passed, .failed: ParityRow.fields(result)?.text ?? "-"
                }
            }
            if !row.differences.isEmpty {
                differing += 1
                table.append(
                    [row.name] + cells + ["DIFFERENT: " + row.differences.map(\.description).joined(separator: "; ")])
                kinds.append(.different)
            } else if row.isSkipped {
                skipped += 1
                let reasons = row.skipReasons.enumerated().compactMap { index, reason in
                    reason.map { "\(labels[index]): \($0)" }
                }
                table.append([row.name] + cells + [reasons.joined(separator: "; ")])
                kinds.append(.skipped)
            } else {
                same += 1
                table.append([row.name] + cells + ["same"])
                kinds.append(.same)
            }
        }
        var widths = header.map(\.count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ line: [String]) -> String {
            line.enumerated().map { i, cell in
                i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        var lines = [terminal.bold(format(header))]
        for (line, kind) in zip(table, kinds) {
            let text = format(line)
            switch kind {
            case .different: lines.append(terminal.red(text))
            case .skipped: lines.append(terminal.yellow(text))
            case .same: lines.append(text)
            }
        }
        let differentRows = rows.filter { !$0.differences.isEmpty }
        if !differentRows.isEmpty {
            lines.append("")
            lines.append("Each difference, side by side:")
            for row in differentRows {
                lines.append("  \(row.name):")
                for (index, result) in row.results.enumerated() {
                    if case .error(let message) = result.status {
                        lines.append("    \(labels[index]): error: \(message)")
                    }
                    guard let fields = ParityRow.fields(result) else { continue }
                    lines.append("    \(labels[index]): \(fields.text); attempts: \(fields.attempts)")
                }
            }
        }
        let mta = rows.filter { !$0.mtaDifferences.isEmpty }
        if !mta.isEmpty {
            lines.append("")
            lines.append("MTA differences (same outcome class; the exact reply is the MTA's own):")
            for row in mta {
                lines.append("  \(row.name): " + row.mtaDifferences.map(\.description).joined(separator: "; "))
            }
        }
        let reasons = skipsByReason(rows, labels: labels)
        if !reasons.isEmpty {
            lines.append("")
            lines.append("Skipped, by reason (cases; side: reason):")
            let width = String(reasons.map(\.count).max() ?? 0).count
            for reason in reasons {
                lines.append("  " + String(reason.count).leftPadded(to: width) + "  \(reason.side): \(reason.reason)")
            }
        }
        lines.append("")
        lines.append(
            "parity: \(same) same, \(differing) different, \(skipped) skipped (not run on two sides)"
                + (mta.isEmpty ? "" : ", \(mta.count) with MTA differences"))
        return lines.joined(separator: "\n")
    }

    /// Every side's reason for skipping cases, with how many cases it skipped, most first (then by
    /// side and reason): a row skipped on two sides counts under both reasons. Rows that were
    /// compared, where one further side skipped, count too: what a side never ran is listed either
    /// way.
    public static func skipsByReason(_ rows: [ParityRow], labels: [String]) -> [(
        side: String, reason: String, count: Int
    )] {
        var counts: [SkipKey: Int] = [:]
        for row in rows {
            for (index, reason) in row.skipReasons.enumerated() {
                guard let reason else { continue }
                counts[SkipKey(side: labels[index], reason: reason), default: 0] += 1
            }
        }
        return counts.map { (side: $0.key.side, reason: $0.key.reason, count: $0.value) }.sorted {
            ($0.count, $1.side, $1.reason) > ($1.count, $0.side, $0.reason)
        }
    }

    private struct SkipKey: Hashable {
        var side: String
        var reason: String
    }

    private enum Kind { case same, different, skipped }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
