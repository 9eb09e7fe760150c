import Reports

/// The parity table: one row per case, one column per side, the verdict last; then the MTA
/// differences (exact replies that differ between sides that need not agree on them) and a
/// summary line.
public enum ParityTable {
    public static func render(_ rows: [ParityRow], labels: [String], terminal: Terminal) -> String {
        let header = ["case"] + labels + [""]
        var table: [[String]] = []
        var kinds: [Kind] = []
        var same = 0, differing = 0, skipped = 0
        for row in rows {
            let cells = zip(row.results, row.notRun).map { result, notRun in
                notRun == nil ? (ParityRow.fields(result)?.text ?? "-") : "skipped"
            }
            if !row.isCompared {
                skipped += 1
                let reasons = row.notRun.enumerated().compactMap { index, reason in reason.map { "\(labels[index]): \($0)" } }
                table.append([row.name] + cells + [reasons.joined(separator: "; ")])
                kinds.append(.skipped)
            } else if row.differences.isEmpty {
                same += 1
                table.append([row.name] + cells + ["same"])
                kinds.append(.same)
            } else {
                differing += 1
                table.append([row.name] + cells + ["DIFFERENT: " + row.differences.map(\.description).joined(separator: "; ")])
                kinds.append(.different)
            }
        }
        var widths = header.map(\.count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ line: [String]) -> String {
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
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
                    guard let fields = ParityRow.fields(result) else { continue }
                    lines.append("    \(labels[index]): \(fields.text); attempts: \(fields.attempts)")
                }
            }
        }
        let mta = rows.filter { !$0.mtaDifferences.isEmpty }
        if !mta.isEmpty {
            lines.append("")
            lines.append("MTA differences (same outcome class; the exact reply is the MTA's own):")
            for row in mta { lines.append("  \(row.name): " + row.mtaDifferences.map(\.description).joined(separator: "; ")) }
        }
        lines.append("")
        lines.append("parity: \(same) same, \(differing) different, \(skipped) skipped (not run on two sides)"
            + (mta.isEmpty ? "" : ", \(mta.count) with MTA differences"))
        return lines.joined(separator: "\n")
    }

    private enum Kind { case same, different, skipped }
}
