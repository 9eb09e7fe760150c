import DNSCore
import Foundation

/// The census as text for a terminal: what was read, a table of fates per policy, and for each
/// policy after the first the clients that change, by reason and by envelope domain. Everything
/// that came from the logs is escaped (`Printable`).
public enum CensusText {
    public static func render(_ report: CensusReport) -> String {
        var lines: [String] = []
        let reading = report.reading
        var read = "Read \(reading.files) file\(reading.files == 1 ? "" : "s"), \(reading.lines) entries"
        let framings = reading.framings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        if !framings.isEmpty { read += " (" + framings.joined(separator: ", ") + ")" }
        if let first = reading.first, let last = reading.last {
            read += ", \(Printable.escaped(first)) to \(Printable.escaped(last))"
        }
        lines.append(read)
        var left: [String] = []
        if reading.authenticatedSessions > 0 {
            left.append("\(reading.authenticatedSessions) authenticated (SASL) sessions")
        }
        if reading.loopbackSessions > 0 {
            left.append("\(reading.loopbackSessions) loopback sessions (content filters)")
        }
        if !left.isEmpty { lines.append("Left out: " + left.joined(separator: ", ")) }
        for note in reading.notes { lines.append("Note: " + note) }
        lines.append(
            "Clients: \(report.clients) (\(report.dualStack) dual-stack), \(report.sessions) sessions, \(report.messages) messages; "
                + "\(report.runs) distinct world\(report.runs == 1 ? "" : "s") run on \(report.target), worlds from \(report.worlds == "log" ? "the logs" : report.worlds)"
        )
        if let shard = report.shard {
            lines.append("Shard \(shard.index)/\(shard.count): \(report.runs) of \(shard.total) worlds")
        }
        let assumed = report.assumptions.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !assumed.isEmpty {
            lines.append("Assumed where the logs are silent:")
            for (key, count) in assumed {
                let text = Assumption(rawValue: key)?.text ?? key
                lines.append("  \(count) client\(count == 1 ? "" : "s"): \(text)")
            }
        }
        lines.append("")
        lines += table(report)
        for policy in report.policies.dropFirst() {
            guard let changed = policy.changed else { continue }
            lines.append("")
            let first = report.policies.first?.name ?? ""
            if changed.clients == 0 {
                lines.append("\(policy.name): no client changes against \(first)")
                continue
            }
            lines.append(
                "\(policy.name): \(changed.clients) client\(changed.clients == 1 ? "" : "s") (\(changed.sessions) sessions, \(changed.messages) messages) change against \(first)"
            )
            lines.append("  by reason:")
            for row in policy.byReason ?? [] {
                var line =
                    "    \(pad(String(row.clients), 7)) \(Printable.escaped(row.name))  (\(row.messages) messages\(fateWords(row.fates)))"
                if let example = row.examples?.first {
                    line += "  e.g. " + example.addresses.map(Printable.escaped).joined(separator: " + ")
                    if let helo = example.helo { line += " HELO " + Printable.excerpt(helo, limit: 60) }
                }
                lines.append(line)
            }
            lines.append("  by envelope domain:")
            for row in policy.byDomain ?? [] {
                lines.append(
                    "    \(pad(String(row.clients), 7)) \(Printable.excerpt(row.name, limit: 80))  (\(row.messages) messages)"
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `; 9 fell back, 2 deferred`.
    static func fateWords(_ fates: [String: Int]?) -> String {
        guard let fates, !fates.isEmpty else { return "" }
        let words = Fate.allCases.compactMap { fate in fates[fate.rawValue].map { "\($0) \(fate.label)" } }
        return "; " + words.joined(separator: ", ")
    }

    /// Clients (sessions, messages) per fate and policy.
    static func table(_ report: CensusReport) -> [String] {
        let fates: [Fate] =
            report.policies.contains { $0.errors > 0 } ? Fate.allCases : [.delivered, .fellBack, .deferred, .bounced]
        let nameWidth = max(8, report.policies.map(\.name.count).max() ?? 0)
        func cell(_ policy: PolicyResult, _ fate: Fate) -> String {
            "\(policy.clients(fate)) (\(policy.sessions[fate.rawValue] ?? 0)/\(policy.messages[fate.rawValue] ?? 0))"
        }
        let widths = fates.map { fate in max(fate.label.count, report.policies.map { cell($0, fate).count }.max() ?? 0)
        }
        var lines = ["clients (sessions/messages)"]
        let heading =
            pad("policy", nameWidth) + "  " + zip(fates, widths).map { pad($0.label, $1) }.joined(separator: "  ")
        lines.append(String(heading.reversed().drop { $0 == " " }.reversed()))
        for policy in report.policies {
            let row =
                pad(Printable.escaped(policy.name), nameWidth) + "  "
                + zip(fates, widths).map { pad(cell(policy, $0), $1) }.joined(separator: "  ")
            lines.append(String(row.reversed().drop { $0 == " " }.reversed()))
        }
        return lines
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension CensusReport {
    /// The report as JSON (keys sorted, so the same census writes the same file).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads a report `json()` wrote.
    public static func read(_ data: Data) throws -> CensusReport {
        try JSONDecoder().decode(CensusReport.self, from: data)
    }
}
