import DNSCore
import Matrix

/// The census as one self-contained page (no script, no external resource: its Content Security
/// Policy forbids any fetch): per policy a bar of the clients' fates and the table of clients,
/// sessions and messages; for each policy after the first, the clients that change by reason (with
/// the biggest of them) and by envelope domain; then the distinct worlds run, each with its fate in
/// every column and the deciding reply. Everything from the logs is escaped twice over: control and
/// invisible characters (`Printable`), then HTML.
public enum CensusHTML {
    /// Worlds listed at most (the biggest first).
    static let worldLimit = 300

    public static func render(_ report: CensusReport, title: String = "mxharness census") -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>\(text(title))</title>
            <style>
            \(style)
            </style>
            </head>
            <body>
            <header>
            <h1>\(text(title))</h1>
            <p class="meta">\(report.clients) clients (\(report.dualStack) dual-stack), \(report.sessions) sessions, \(report.messages) messages; \
            \(report.runs) distinct world\(report.runs == 1 ? "" : "s") run on \(text(report.target)); worlds from \(text(report.worlds == "log" ? "the logs" : report.worlds)).</p>

            """
        let assumed = report.assumptions.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !assumed.isEmpty {
            html += "<ul class=\"assumed\">"
            for (key, count) in assumed {
                html +=
                    "<li>\(count) client\(count == 1 ? "" : "s"): \(text(Assumption(rawValue: key)?.text ?? key))</li>"
            }
            html += "</ul>\n"
        }
        for note in report.reading.notes { html += "<p class=\"note\">\(text(note))</p>\n" }
        html += "</header>\n<main>\n<section id=\"policies\">\n<h2>Clients by policy</h2>\n<table class=\"totals\">\n"
        html += "<thead><tr><th scope=\"col\">policy</th><th scope=\"col\" class=\"bar-head\">clients</th>"
        let fates =
            report.policies.contains { $0.errors > 0 } ? Fate.allCases : [.delivered, .fellBack, .deferred, .bounced]
        for fate in fates { html += "<th scope=\"col\">\(fate.label)</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for policy in report.policies {
            html +=
                "<tr class=\"policy\"><th scope=\"row\">\(text(policy.name))</th><td class=\"bar-cell\"><div class=\"bar\">"
            for fate in fates where policy.clients(fate) > 0 {
                let share = Double(policy.clients(fate)) * 100 / Double(max(1, report.clients))
                html +=
                    "<span class=\"\(fate.rawValue)\" style=\"width:\(String(format: "%.2f", share))%\" title=\"\(fate.label): \(policy.clients(fate))\"></span>"
            }
            html += "</div></td>"
            for fate in fates {
                html +=
                    "<td class=\"count \(fate.rawValue)\"><b>\(policy.clients(fate))</b><br><small>\(policy.sessions[fate.rawValue] ?? 0) sessions · \(policy.messages[fate.rawValue] ?? 0) messages</small></td>"
            }
            html += "</tr>\n"
        }
        html += "</tbody>\n</table>\n</section>\n"

        let first = report.policies.first?.name ?? ""
        for policy in report.policies.dropFirst() {
            guard let changed = policy.changed else { continue }
            html += "<section class=\"changes\">\n<h2>\(text(policy.name)) against \(text(first))</h2>\n"
            guard changed.clients > 0 else {
                html += "<p>No client changes.</p>\n</section>\n"
                continue
            }
            html +=
                "<p>\(changed.clients) client\(changed.clients == 1 ? "" : "s") (\(changed.sessions) sessions, \(changed.messages) messages) end differently.</p>\n"
            html +=
                "<div class=\"pair\"><table class=\"ranking\"><caption>by reason</caption><thead><tr><th scope=\"col\">reason</th><th scope=\"col\">clients</th><th scope=\"col\">messages</th><th scope=\"col\">the biggest</th></tr></thead><tbody>\n"
            for row in policy.byReason ?? [] {
                let examples = (row.examples ?? []).map { example -> String in
                    var item = example.addresses.map(text).joined(separator: " + ")
                    if let helo = example.helo { item += " <span class=\"helo\">HELO \(text(helo))</span>" }
                    return item
                }
                let split = CensusText.fateWords(row.fates).dropFirst(2)
                html +=
                    "<tr><th scope=\"row\">\(text(row.name))<br><small>\(text(String(split)))</small></th><td>\(row.clients)</td><td>\(row.messages)</td><td class=\"examples\">\(examples.joined(separator: "<br>"))</td></tr>\n"
            }
            html +=
                "</tbody></table>\n<table class=\"ranking\"><caption>by envelope domain</caption><thead><tr><th scope=\"col\">domain</th><th scope=\"col\">clients</th><th scope=\"col\">messages</th></tr></thead><tbody>\n"
            for row in policy.byDomain ?? [] {
                html +=
                    "<tr><th scope=\"row\">\(text(row.name))</th><td>\(row.clients)</td><td>\(row.messages)</td></tr>\n"
            }
            html += "</tbody></table></div>\n</section>\n"
        }

        html += "<section id=\"worlds\">\n<h2>Worlds run</h2>\n"
        let shown = report.groups.sorted {
            ($0.weight.clients, $0.weight.messages, $1.name) > ($1.weight.clients, $1.weight.messages, $0.name)
        }
        if shown.count > worldLimit { html += "<p>The \(worldLimit) biggest of \(shown.count) worlds.</p>\n" }
        html +=
            "<div class=\"scroll\"><table class=\"worlds\">\n<thead><tr><th scope=\"col\" class=\"world\">world</th><th scope=\"col\">clients</th>"
        for policy in report.policies { html += "<th scope=\"col\">\(text(policy.name))</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for group in shown.prefix(worldLimit) {
            html +=
                "<tr><th scope=\"row\" class=\"world\">\(text(group.description))</th><td>\(group.weight.clients)<br><small>\(group.weight.messages) msgs</small></td>"
            for policy in report.policies {
                guard let outcome = group.outcomes[policy.name] else {
                    html += "<td></td>"
                    continue
                }
                html +=
                    "<td class=\"cell \(outcome.fate.rawValue)\"><details><summary>\(text(outcome.label))</summary><p>\(text(outcome.reply))</p>"
                if let reason = outcome.reason { html += "<p class=\"reason\">\(text(reason))</p>" }
                html += "</details></td>"
            }
            html += "</tr>\n"
        }
        html += """
            </tbody>
            </table></div>
            </section>
            </main>
            <footer><p>Written by mxharness census. Each world is a case the harness ran in a sealed network namespace; \
            clients whose worlds are the same up to their names and addresses share one run, weighed by their clients, sessions and messages. \
            Nothing was sent outside the machine.</p></footer>
            </body>
            </html>

            """
        return html
    }

    /// Text from the logs made safe: `Printable` escapes, then HTML escapes.
    static func text(_ value: String) -> String {
        MatrixHTML.escape(Printable.escaped(value))
    }

    static let style = """
        :root { color-scheme: light dark; --delivered: #2e7d32; --fell_back: #9e9d24; --deferred: #ef6c00; --bounced: #c62828; --error: #6a1b9a; }
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0; padding: 1rem; }
        h1 { font-size: 1.3rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
        .meta, .note { color: #555; } .assumed { color: #555; margin: .3rem 0; padding-left: 1.2rem; }
        table { border-collapse: collapse; } th, td { padding: .3rem .5rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
        .totals td.count b { font-size: 1.05rem; } .totals small, .worlds small { color: #666; }
        .bar-cell { min-width: 12rem; width: 30%; } .bar { display: flex; height: 1.1rem; background: #eee; border-radius: 3px; overflow: hidden; }
        .bar span { display: block; height: 100%; }
        .bar .delivered, td.cell.delivered { background: color-mix(in srgb, var(--delivered) 25%, transparent); }
        .bar .delivered { background: var(--delivered); } .bar .fell_back { background: var(--fell_back); }
        .bar .deferred { background: var(--deferred); } .bar .bounced { background: var(--bounced); } .bar .error { background: var(--error); }
        td.count.delivered b { color: var(--delivered); } td.count.fell_back b { color: var(--fell_back); }
        td.count.deferred b { color: var(--deferred); } td.count.bounced b { color: var(--bounced); } td.count.error b { color: var(--error); }
        td.cell.fell_back { background: color-mix(in srgb, var(--fell_back) 25%, transparent); }
        td.cell.deferred { background: color-mix(in srgb, var(--deferred) 25%, transparent); }
        td.cell.bounced { background: color-mix(in srgb, var(--bounced) 25%, transparent); }
        td.cell.error { background: color-mix(in srgb, var(--error) 25%, transparent); }
        .pair { display: flex; flex-wrap: wrap; gap: 1.5rem; } caption { text-align: left; font-weight: 600; padding: .3rem 0; }
        .examples { font-family: ui-monospace, monospace; font-size: .85rem; } .helo { color: #666; }
        .scroll { overflow-x: auto; } .worlds th.world { position: sticky; left: 0; background: Canvas; min-width: 16rem; max-width: 28rem; font-weight: normal; }
        details summary { cursor: pointer; white-space: nowrap; } details p { margin: .3rem 0; font-size: .85rem; max-width: 28rem; }
        .reason { font-weight: 600; }
        footer { color: #666; font-size: .85rem; margin-top: 2rem; }
        @media print { details { display: block; } .scroll { overflow: visible; } }
        """
}
