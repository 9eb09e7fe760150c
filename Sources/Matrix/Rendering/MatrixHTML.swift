import Delivery
import Runner

/// The matrix as one self-contained HTML page: no script, no external resource (a Content Security
/// Policy forbids any fetch, so a browser reports one as an error), coloured by outcome; each cell
/// is a `<details>` that opens the transcripts of its attempts and the MX's decision record. The
/// table scrolls sideways on a phone with the case names kept in view, and prints.
public enum MatrixHTML {
    /// The CSS class of every cell (`td.cell`): one per case and column.
    public static let cellClass = "cell"

    public static func render(_ matrix: Matrix, title: String = "mxharness policy matrix") -> String {
        let summary = matrix.summary
        let receiver = matrix.receiverName
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>\(escape(title))</title>
            <style>
            \(style)
            </style>
            </head>
            <body>
            <header>
            <h1>\(escape(title))</h1>
            <p class="meta">\(summary.cases) case\(summary.cases == 1 ? "" : "s") × \(summary.columns) polic\(summary.columns == 1 ? "y" : "ies") on \(escape(receiver)). \
            \(summary.differingRows) row\(summary.differingRows == 1 ? "" : "s") differ; expect holds in \(summary.holds) and fails in \(summary.fails) own-policy cell\(summary.fails == 1 ? "" : "s"); \
            \(summary.skipped) skipped, \(summary.errors) could not run.</p>
            <dl class="columns">

            """
        for column in matrix.columns {
            html += "<dt>\(escape(column.name))</dt><dd>\(escape(column.summary))</dd>\n"
        }
        html += """
            </dl>
            <p class="legend"><span class="swatch delivered">delivered</span> <span class="swatch deferred">deferred</span> \
            <span class="swatch bounced">bounced</span> <span class="swatch skipped">skipped</span> <span class="swatch error">could not run</span> \
            <span class="mark">≠</span> ends differently from the row's most common outcome · <span class="badge">own policy</span> the case's own policy, \
            where its expect is judged (✓ holds, ✗ fails). Open a cell for the transcripts and the MX's decision record.</p>
            <input type="checkbox" id="only-differing"><label for="only-differing">only rows that differ</label>
            </header>
            <main class="scroll">
            <table class="matrix">
            <thead><tr><th scope="col" class="case">case</th>
            """
        for column in matrix.columns {
            html += "<th scope=\"col\" title=\"\(escape(column.summary))\">\(escape(column.name))</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in matrix.rows {
            let differing = row.differingCells
            html += "<tr class=\"\(row.differs ? "differs" : "same")\">"
            html += "<th scope=\"row\" class=\"case\">"
            if row.differs { html += "<span class=\"mark\" title=\"the cells differ\">≠</span> " }
            html += "<span class=\"name\">\(escape(row.name))</span>"
            if let location = row.location {
                html += "<span class=\"where\">\(escape("\(location.file):\(location.line)"))</span>"
            }
            html += "</th>\n"
            for (index, (column, cell)) in zip(matrix.columns, row.cells).enumerated() {
                html += self.cell(cell, column: column, differs: differing.contains(index))
            }
            html += "</tr>\n"
        }
        html += """
            </tbody>
            </table>
            </main>
            <footer><p>Written by mxharness matrix. Expectations are judged only in the column of the case's own policy; \
            other columns show what the same delivery would meet there.</p></footer>
            </body>
            </html>

            """
        return html
    }

    static func cell(_ cell: MatrixCell, column: PolicyColumn, differs: Bool) -> String {
        let outcome = cell.outcome
        let kind =
            outcome.status == .ran
            ? (outcome.outcome?.rawValue ?? "unknown") : outcome.status == .skipped ? "skipped" : "error"
        var classes = [cellClass, kind]
        if cell.isOwnPolicy { classes.append("own") }
        if differs { classes.append("differs") }
        if cell.verdict == .fails { classes.append("fails") }
        var html =
            "<td class=\"\(classes.joined(separator: " "))\" data-column=\"\(escape(column.name))\" data-outcome=\"\(escape(kind))\">"
        html += "<details><summary><span class=\"label\">\(escape(outcome.label))</span>"
        if differs { html += " <span class=\"mark\" title=\"ends differently\">≠</span>" }
        switch cell.verdict {
        case .holds: html += " <span class=\"badge\" title=\"the case's own policy: its expect holds\">own ✓</span>"
        case .fails:
            html += " <span class=\"badge fails\" title=\"the case's own policy: its expect fails\">own ✗</span>"
        case .notJudged: if cell.isOwnPolicy { html += " <span class=\"badge\">own</span>" }
        }
        html += "<span class=\"reply\">\(escape(outcome.replyLine))</span>"
        if let note = cell.note { html += "<span class=\"note\">\(escape(note))</span>" }
        html += "</summary>\n<div class=\"evidence\">"
        if !cell.mismatches.isEmpty {
            html += "<h4>Expectation</h4><ul class=\"mismatches\">"
            for mismatch in cell.mismatches { html += "<li>\(escape(mismatch.description))</li>" }
            html += "</ul>"
        }
        if !outcome.attempts.isEmpty {
            html += "<h4>Attempts</h4><ol class=\"attempts\">"
            for attempt in outcome.attempts { html += "<li>\(escape(attempt.description))</li>" }
            html += "</ol>"
        }
        if let result = cell.result {
            if let delivery = result.delivery {
                html += "<h4>Transcripts of the attempts</h4><pre>\(escape(delivery.renderTranscript()))</pre>"
            }
            let decisions = result.evidence?.decisions ?? []
            if !decisions.isEmpty {
                html += "<h4>Why the MX decided</h4><pre>\(escape(decisions.joined(separator: "\n\n")))</pre>"
            }
            if !result.receiverLog.isEmpty {
                html += "<h4>Receiver log</h4><pre>\(escape(result.receiverLog))</pre>"
            }
            if result.delivery == nil && decisions.isEmpty && outcome.status == .ran {
                html += "<p>No transcript was kept.</p>"
            }
        }
        if outcome.status != .ran, let reason = outcome.reason {
            html += "<p>\(outcome.status == .skipped ? "Skipped" : "Could not run"): \(escape(reason))</p>"
        }
        html += "</div></details></td>\n"
        return html
    }

    /// Text for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab and newline are not allowed in HTML text.
            case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": out += "\u{FFFD}"
            case "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static let style = """
        :root { --delivered: #d8f3dc; --delivered-ink: #1b5e20; --deferred: #fff3c4; --deferred-ink: #7a5300;
          --bounced: #fdd8d8; --bounced-ink: #9b1c1c; --skipped: #eceff1; --skipped-ink: #455a64; --error: #ead7f7; --error-ink: #5b2180;
          --line: #d0d7de; --ink: #1f2328; --muted: #59636e; }
        * { box-sizing: border-box; }
        body { margin: 0; padding: 1rem; color: var(--ink); background: #fff;
          font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
        h1 { font-size: 1.3rem; margin: 0 0 .4rem; }
        .meta { margin: 0 0 .5rem; }
        dl.columns { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: 0 0 .5rem; font-size: .9em; }
        dl.columns dt { font-weight: 600; }
        dl.columns dd { margin: 0; color: var(--muted); }
        .legend { font-size: .85em; color: var(--muted); margin: 0 0 .5rem; }
        .swatch { padding: 0 .3rem; border-radius: 3px; }
        .swatch.delivered, td.delivered { background: var(--delivered); }
        .swatch.deferred, td.deferred { background: var(--deferred); }
        .swatch.bounced, td.bounced { background: var(--bounced); }
        .swatch.skipped, td.skipped { background: var(--skipped); }
        .swatch.error, td.error { background: var(--error); }
        td.delivered .label { color: var(--delivered-ink); }
        td.deferred .label { color: var(--deferred-ink); }
        td.bounced .label { color: var(--bounced-ink); }
        td.skipped .label { color: var(--skipped-ink); }
        td.error .label { color: var(--error-ink); }
        .mark { color: #b35900; font-weight: 700; }
        .badge { font-size: .75em; font-weight: 400; border: 1px solid currentColor; border-radius: 3px; padding: 0 .25rem; white-space: nowrap; }
        .badge.fails { color: #fff; background: #b42318; border-color: #b42318; }
        label[for=only-differing] { font-size: .9em; margin-left: .3rem; }
        body:has(#only-differing:checked) tr.same { display: none; }
        .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin-top: .5rem; border: 1px solid var(--line); }
        table.matrix { border-collapse: separate; border-spacing: 0; width: 100%; }
        th, td { padding: .35rem .5rem; border-bottom: 1px solid var(--line); border-right: 1px solid var(--line); vertical-align: top; text-align: left; }
        thead th { background: #f6f8fa; position: sticky; top: 0; z-index: 2; white-space: nowrap; }
        th.case { position: sticky; left: 0; z-index: 1; background: #fff; min-width: 14rem; max-width: 26rem; font-weight: 400; }
        thead th.case { z-index: 3; background: #f6f8fa; font-weight: 700; }
        th.case .name { font-weight: 600; overflow-wrap: anywhere; }
        th.case .where { display: block; font-size: .75em; color: var(--muted); overflow-wrap: anywhere; }
        tr.differs th.case { box-shadow: inset 4px 0 #e8a33d; }
        td.cell { min-width: 14rem; }
        td.differs { box-shadow: inset 0 0 0 2px #e8a33d; }
        td.fails { box-shadow: inset 0 0 0 2px #b42318; }
        summary { cursor: pointer; list-style-position: inside; }
        .label { font-weight: 600; }
        .reply { display: block; font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; color: var(--muted); word-break: break-word; }
        .note { display: block; font-size: 12px; color: #8a5a00; margin-top: 2px; }
        .evidence { margin-top: .4rem; }
        .evidence h4 { margin: .5rem 0 .2rem; font-size: .8rem; }
        .evidence pre { margin: 0; padding: .4rem; background: #fff; border: 1px solid var(--line); border-radius: 4px;
          font: 11px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-all; max-height: 28rem; overflow: auto; }
        .evidence ol, .evidence ul { margin: 0; padding-left: 1.2rem; font-size: .85em; }
        .mismatches { color: #b42318; }
        footer { font-size: .8em; color: var(--muted); margin-top: .8rem; }
        @media (max-width: 640px) {
          body { padding: .5rem; font-size: 13px; }
          th.case { min-width: 8rem; max-width: 11rem; }
          td.cell { min-width: 11rem; }
          dl.columns { grid-template-columns: 1fr; }
          dl.columns dd { margin-bottom: .3rem; }
        }
        @media print {
          body { padding: 0; font-size: 9pt; }
          * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          #only-differing, label[for=only-differing] { display: none; }
          .scroll { overflow: visible; border: 0; }
          thead { display: table-header-group; }
          thead th, th.case { position: static; }
          tr { break-inside: avoid; }
          summary { list-style: none; }
          summary::-webkit-details-marker { display: none; }
          .evidence pre { max-height: none; overflow: visible; }
          td.cell, th.case { min-width: 0; }
        }
        """
}
