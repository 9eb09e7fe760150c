import Foundation
import Logging
import Reports
import Runner
import Scenario

/// One case on both receivers.
public struct ParityRow: Sendable {
    public var name: String
    public var builtin: CaseResult
    public var postfix: CaseResult

    /// outcome, family, stage, code and enhanced code of one side; nil when it did not run.
    static func fields(_ result: CaseResult) -> [String]? {
        switch result.status {
        case .skipped, .error: return nil
        case .passed, .failed: break
        }
        let observed = result.observed
        return [
            observed?.outcome ?? "-", observed?.family?.rawValue ?? "-", observed?.stage?.rawValue ?? "-",
            observed?.reply.map { String($0.code) } ?? "-", observed?.reply?.enhanced ?? "-",
        ]
    }

    /// The names of the fields that differ (empty when they agree or the case was skipped).
    public var differences: [String] {
        guard let a = Self.fields(builtin), let b = Self.fields(postfix) else { return [] }
        return zip(["outcome", "family", "stage", "code", "enhanced"], zip(a, b)).compactMap { $1.0 == $1.1 ? nil : $0 }
    }

    public var skippedReason: String? {
        if case .skipped(let reason) = postfix.status { return reason }
        if case .error(let message) = postfix.status { return "postfix: " + message }
        if case .error(let message) = builtin.status { return "builtin: " + message }
        return nil
    }
}

extension Harness {
    /// Runs every case on the built-in MX and on Postfix. Postfix is the reference: a difference is a
    /// bug in the built-in MX unless the spec says otherwise.
    public static func parityRows(_ cases: [ScenarioCase], configuration: RunConfiguration, jobs: Int, logger: Logger) async -> [ParityRow] {
        var builtinConfiguration = configuration
        builtinConfiguration.target = .builtin
        var postfixConfiguration = configuration
        postfixConfiguration.target = .postfix
        let builtin = await ScenarioRun(runner: CaseRunner(configuration: builtinConfiguration, logger: logger), jobs: jobs).run(cases)
        let postfix = await ScenarioRun(runner: CaseRunner(configuration: postfixConfiguration, logger: logger), jobs: jobs).run(cases)
        return zip(builtin, postfix).map { ParityRow(name: $0.name, builtin: $0, postfix: $1) }
    }

    /// `mxharness parity PATHS`: the table, differences marked; exit 1 when any case differs.
    public static func parity(
        paths: [String], selection: CaseSelection = CaseSelection(), shard: CaseShard? = nil, jobs: Int,
        configuration: RunConfiguration, logger: Logger
    ) async throws(HarnessError) -> Verdict {
        let out = Output()
        let chosen = try Selection.make(paths, selection, shard: shard)
        try Preflight.ready(needs: .root(because: "parity (it runs every case on Postfix as well)"), logger: logger)
        if let note = chosen.shardNote { out.line(note) }
        let rows = await parityRows(chosen.cases, configuration: configuration, jobs: jobs, logger: logger)
        out.line(renderParity(rows, terminal: Terminal.detect()))
        return Verdict(passed: !rows.contains { !$0.differences.isEmpty })
    }

    public static func renderParity(_ rows: [ParityRow], terminal: Terminal) -> String {
        let header = ["case", "builtin", "postfix", ""]
        var table: [[String]] = []
        var compared = 0, differing = 0, skipped = 0
        for row in rows {
            let a = ParityRow.fields(row.builtin)?.joined(separator: " ") ?? "-"
            if let reason = row.skippedReason {
                skipped += 1
                table.append([row.name, a, "skipped", reason])
                continue
            }
            compared += 1
            let b = ParityRow.fields(row.postfix)?.joined(separator: " ") ?? "-"
            let differences = row.differences
            if !differences.isEmpty { differing += 1 }
            table.append([row.name, a, b, differences.isEmpty ? "same" : "DIFFERENT: " + differences.joined(separator: ", ")])
        }
        var widths = header.map(\.count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ line: [String]) -> String {
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var lines = [terminal.bold(format(header))]
        for line in table {
            let text = format(line)
            lines.append(line[3].hasPrefix("DIFFERENT") ? terminal.red(text) : line[2] == "skipped" ? terminal.yellow(text) : text)
        }
        lines.append("")
        lines.append("parity: \(compared - differing) same, \(differing) different, \(skipped) skipped (no Postfix equivalent)")
        return lines.joined(separator: "\n")
    }
}
