import Foundation
import Runner

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
