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

/// The lines a run prints as cases finish. On a terminal (`live`), a status line `[n/N] 4.2s`
/// stays under them once the run has taken longer than a second, rewritten in place as cases
/// finish and as time passes; elsewhere (a CI log, a pipe) only the plain lines are written.
public final class ProgressDisplay: @unchecked Sendable {
    public let total: Int
    public let live: Bool
    private let write: @Sendable (String) -> Void
    private let elapsed: @Sendable () -> Duration
    private let lock = NSLock()
    private var done = 0
    private var statusShown = false
    private var ticker: Task<Void, Never>?

    /// Status lines appear only after this long, so short runs print nothing but their lines.
    public static let quietPeriod: Duration = .seconds(1)

    /// `write` gets text exactly as it goes to the terminal; `elapsed` says how long the run has
    /// taken (a clock of the caller's, so tests choose the time).
    public init(
        total: Int, live: Bool, write: @escaping @Sendable (String) -> Void, elapsed: @escaping @Sendable () -> Duration
    ) {
        self.total = total
        self.live = live
        self.write = write
        self.elapsed = elapsed
    }

    /// Standard output, live when it is a terminal that understands cursor movement.
    public static func standardOutput(total: Int) -> ProgressDisplay {
        let clock = ContinuousClock()
        let start = clock.now
        let terminal = isatty(1) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        return ProgressDisplay(
            total: total, live: terminal,
            write: { text in try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) },
            elapsed: { clock.now - start })
    }

    /// Starts redrawing the status line as time passes (live only).
    public func start() {
        guard live else { return }
        lock.withLock {
            ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    self?.tick()
                }
            }
        }
    }

    /// A case finished: its line, then the status line again.
    public func finished(_ line: String) {
        lock.withLock {
            done += 1
            var text = statusShown ? "\r\u{1B}[K" : ""
            statusShown = false
            text += line + "\n"
            text += statusText()
            write(text)
        }
    }

    /// A case (or a matrix cell) finished that prints no line of its own (`parity`, `matrix`): the
    /// status line again.
    public func advanced() {
        lock.withLock {
            done += 1
            let status = statusText()
            if !status.isEmpty { write(status) }
        }
    }

    /// Redraws the status line with the time now.
    public func tick() {
        lock.withLock {
            let status = statusText()
            if !status.isEmpty { write(status) }
        }
    }

    /// Takes the status line away for good (before the final report).
    public func stop() {
        lock.withLock {
            ticker?.cancel()
            ticker = nil
            if statusShown { write("\r\u{1B}[K") }
            statusShown = false
        }
    }

    /// `[n/N] 4.2s`, from the start of the line; empty when not live or still in the quiet period.
    private func statusText() -> String {
        let time = elapsed()
        guard live, time >= Self.quietPeriod else { return "" }
        statusShown = true
        return "\r\u{1B}[K" + Self.status(done: done, total: total, elapsed: time)
    }

    public static func status(done: Int, total: Int, elapsed: Duration) -> String {
        "[\(done)/\(total)] " + seconds(elapsed)
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1fs", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

extension ConsoleReporter {
    /// The `count` slowest cases, slowest first, each with where its time went.
    public func durations(_ results: [CaseResult], count: Int) -> String {
        guard count > 0, !results.isEmpty else { return "" }
        func format(_ duration: Duration) -> String {
            String(
                format: "%.3fs", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
        let slowest = results.enumerated().sorted { a, b in
            a.element.timings.total != b.element.timings.total
                ? a.element.timings.total > b.element.timings.total : a.offset < b.offset
        }.prefix(count).map(\.element)
        var lines = [terminal.bold("Slowest \(slowest.count) of \(results.count) cases:")]
        let width = slowest.map { format($0.timings.total).count }.max() ?? 0
        for result in slowest {
            let t = result.timings
            let total = format(t.total)
            lines.append(
                "  " + String(repeating: " ", count: width - total.count) + total + "  " + result.name
                    + terminal.dim(
                        "  (setup \(format(t.setup)), exchange \(format(t.exchange)), teardown \(format(t.teardown)))"))
        }
        return lines.joined(separator: "\n")
    }
}
