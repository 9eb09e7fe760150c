import Foundation
import Logging
import Reports
import Runner
import Scenario

/// One case sent by the built-in delivery model and by a real sending MTA.
public struct SenderParityRow: Sendable {
    public var name: String
    public var model: CaseResult
    public var real: CaseResult

    public init(name: String, model: CaseResult, real: CaseResult) {
        self.name = name
        self.model = model
        self.real = real
    }

    /// The deciding outcome, family, stage, code and enhanced code, then the attempts (family,
    /// result, stage, code each); nil when the side did not run.
    static func fields(_ result: CaseResult) -> [String]? {
        guard ParityRow.fields(result) != nil, result.observed != nil else { return nil }
        return ParityRow.fields(result)! + [attempts(result)]
    }

    /// `ipv6 tempfailed rcpt 450, ipv4 accepted data 250`.
    static func attempts(_ result: CaseResult) -> String {
        guard let observed = result.observed, !observed.attempts.isEmpty else { return "(no attempt)" }
        return observed.attempts.map { "\($0.family.rawValue) \($0.result.rawValue) \($0.stage?.rawValue ?? "-") \($0.reply.map { String($0.code) } ?? "-")" }
            .joined(separator: ", ")
    }

    /// The names of the fields that differ (empty when they agree or a side did not run).
    public var differences: [String] {
        guard let a = Self.fields(model), let b = Self.fields(real) else { return [] }
        return zip(["outcome", "family", "stage", "code", "enhanced", "attempts"], zip(a, b)).compactMap { $1.0 == $1.1 ? nil : $0 }
    }

    public var skippedReason: String? {
        for (side, result) in [("real sender", real), ("built-in sender", model)] {
            if case .skipped(let reason) = result.status { return "\(side): \(reason)" }
            if case .error(let message) = result.status { return "\(side): \(message)" }
        }
        return nil
    }
}

extension Harness {
    /// Runs every case with the built-in sender and with `sender`, on the same receiver.
    public static func senderParityRows(
        _ cases: [ScenarioCase], sender: SenderMTA, configuration: RunConfiguration, jobs: Int, logger: Logger
    ) async -> [SenderParityRow] {
        var modelConfiguration = configuration
        modelConfiguration.sender = .builtin
        var realConfiguration = configuration
        realConfiguration.sender = sender
        let model = await ScenarioRun(runner: CaseRunner(configuration: modelConfiguration, logger: logger), jobs: jobs).run(cases)
        let real = await ScenarioRun(runner: CaseRunner(configuration: realConfiguration, logger: logger), jobs: jobs).run(cases)
        return zip(model, real).map { SenderParityRow(name: $0.name, model: $0, real: $1) }
    }

    /// `mxharness parity --sender MTA PATHS`: the table, each difference with both attempt lists;
    /// exit 1 when any case differs.
    public static func senderParity(paths: [String], sender: SenderMTA, jobs: Int, configuration: RunConfiguration, logger: Logger) async -> Int32 {
        let out = Output()
        guard let cases = Preflight.cases(paths, logger: logger) else { return HarnessExit.usage }
        let rows = await senderParityRows(cases, sender: sender, configuration: configuration, jobs: jobs, logger: logger)
        out.line(renderSenderParity(rows, sender: sender, terminal: Terminal.detect()))
        return rows.contains { !$0.differences.isEmpty } ? HarnessExit.failures : HarnessExit.success
    }

    public static func renderSenderParity(_ rows: [SenderParityRow], sender: SenderMTA, terminal: Terminal) -> String {
        var lines: [String] = []
        var compared = 0, differing = 0, skipped = 0
        let width = rows.map(\.name.count).max() ?? 4
        func summary(_ result: CaseResult) -> String { ParityRow.fields(result)?.prefix(5).joined(separator: " ") ?? "-" }
        lines.append(terminal.bold("case".padding(toLength: width, withPad: " ", startingAt: 0) + "  builtin / \(sender)"))
        for row in rows {
            let name = row.name.padding(toLength: width, withPad: " ", startingAt: 0)
            if let reason = row.skippedReason {
                skipped += 1
                lines.append(terminal.yellow("\(name)  skipped: \(reason)"))
                continue
            }
            compared += 1
            let differences = row.differences
            if differences.isEmpty {
                lines.append("\(name)  same: \(summary(row.model))")
                continue
            }
            differing += 1
            lines.append(terminal.red("\(name)  DIFFERENT: \(differences.joined(separator: ", "))"))
            lines.append("    builtin: \(summary(row.model)); attempts: \(SenderParityRow.attempts(row.model))")
            lines.append("    \(sender): \(summary(row.real)); attempts: \(SenderParityRow.attempts(row.real))")
        }
        lines.append("")
        lines.append("sender parity (\(sender)): \(compared - differing) same, \(differing) different, \(skipped) skipped")
        return lines.joined(separator: "\n")
    }
}
