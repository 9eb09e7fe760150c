import Delivery
import Foundation
import Runner
import Scenario

/// What a person sees: a line per case as it finishes, details of each failure, a summary table
/// and the closing `N passed, M failed, K skipped` line.
public struct ConsoleReporter: Sendable {
    public var terminal: Terminal

    public init(terminal: Terminal) {
        self.terminal = terminal
    }

    /// The progress line for one finished case.
    public func progressLine(_ result: CaseResult) -> String {
        let label: String
        switch result.status {
        case .passed: label = terminal.green("PASS")
        case .failed: label = terminal.red("FAIL")
        case .skipped: label = terminal.yellow("SKIP")
        case .error: label = terminal.red("ERROR")
        }
        var line = "\(label) \(result.name)"
        if let observed = result.observed {
            line += terminal.dim("  " + Self.outcomeText(observed, result))
        }
        for verdict in result.evidence?.engines ?? [] { line += terminal.dim("  [\(verdict.summary)]") }
        if case .skipped(let reason) = result.status { line += terminal.dim("  (\(reason))") }
        return line
    }

    /// `bounced ipv6 rcpt 550 5.7.25`.
    static func outcomeText(_ observed: ObservedDelivery, _ result: CaseResult) -> String {
        var parts = [observed.outcome.rawValue]
        if let family = observed.family { parts.append(family.rawValue) }
        if let stage = observed.stage { parts.append(stage.rawValue) }
        if let reply = observed.reply {
            parts.append(String(reply.code))
            if let enhanced = reply.enhanced { parts.append(enhanced) }
        }
        if let tls = result.decidingAttempt?.tls {
            parts.append("TLS \(tls.trust.map { "\($0) " } ?? "")\(tls.version?.rawValue ?? "")")
        }
        return parts.joined(separator: " ")
    }

    /// Why a case failed: each mismatch, the deciding reply, why the MX decided, the transcript.
    public func failureDetails(_ result: CaseResult) -> String {
        var lines: [String] = []
        switch result.status {
        case .passed, .skipped:
            return ""
        case .error(let message):
            lines.append(terminal.bold("── \(result.name)") + " (\(result.scenario.location))")
            lines.append("  could not run: " + message.replacingOccurrences(of: "\n", with: "\n  "))
            return lines.joined(separator: "\n")
        case .failed:
            break
        }
        lines.append(terminal.bold("── \(result.name)") + " (\(result.scenario.location))")
        for mismatch in result.mismatches {
            lines.append("  " + terminal.red(mismatch.description))
        }
        if let attempt = result.decidingAttempt {
            let reply = attempt.reply.map(\.description) ?? (attempt.error ?? "no reply")
            lines.append(
                "  deciding reply: \(reply) (\(attempt.family.rawValue), \(attempt.stage.rawValue), [\(attempt.remoteAddress)])"
            )
            lines.append(
                "  deciding session: "
                    + (attempt.tls.map { "over TLS: \($0.trust.map { "\($0) " } ?? "")\($0)" } ?? "in plaintext"))
        }
        if let note = result.delivery?.note { lines.append("  sender: \(note)") }
        for decision in result.evidence?.decisions ?? [] {
            lines.append("  why the MX decided:")
            for line in decision.split(separator: "\n") { lines.append("    " + line) }
        }
        for verdict in result.evidence?.engines ?? [] { lines.append("  engine: \(verdict)") }
        if !result.receiverLog.isEmpty {
            lines.append("  receiver log:")
            for line in result.receiverLog.split(separator: "\n").suffix(10) { lines.append("    " + line) }
        }
        if let delivery = result.delivery {
            lines.append("  transcript:")
            for line in delivery.renderTranscript().split(separator: "\n", omittingEmptySubsequences: false) {
                lines.append("    " + line)
            }
        }
        if let folder = result.artifactsDirectory { lines.append("  artifacts: \(folder)") }
        return lines.joined(separator: "\n")
    }

    /// The table: case, outcome, family, stage, code, verdict.
    public func summaryTable(_ results: [CaseResult]) -> String {
        let header = ["case", "outcome", "family", "stage", "code", "verdict"]
        var rows: [[String]] = []
        for result in results {
            let observed = result.observed
            let code =
                observed?.reply.map { [String($0.code), $0.enhanced].compactMap { $0 }.joined(separator: " ") } ?? ""
            rows.append([
                result.name, observed?.outcome.rawValue ?? "-", observed?.family?.rawValue ?? "-",
                observed?.stage?.rawValue ?? "-",
                code.isEmpty ? "-" : code, result.status.label,
            ])
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var lines = [terminal.bold(format(header))]
        for row in rows {
            let line = format(row)
            let status = row.last ?? ""
            switch status {
            // Only the status cell (the line's end, never padded): a case name may contain the word.
            case "passed": lines.append(line.dropLast(status.count) + terminal.green(status))
            case "failed", "error": lines.append(terminal.red(line))
            case "skipped": lines.append(terminal.yellow(line))
            default: lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Everything after the progress lines.
    public func finalReport(_ results: [CaseResult]) -> String {
        var parts: [String] = []
        let failures = results.map(failureDetails).filter { !$0.isEmpty }
        if !failures.isEmpty {
            parts.append(terminal.bold("Failures:"))
            parts.append(contentsOf: failures)
        }
        parts.append(summaryTable(results))
        parts.append(RunSummary(results).line)
        return parts.joined(separator: "\n\n")
    }
}
