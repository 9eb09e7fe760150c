import Foundation
import Logging
import Reports
import Runner
import Scenario

/// One case on every compared receiver.
public struct ParityRow: Sendable {
    public var name: String
    /// The compared targets, in the order given, each with its result.
    public var results: [(target: ReceiverTarget, result: CaseResult)]

    public init(name: String, results: [(target: ReceiverTarget, result: CaseResult)]) {
        self.name = name
        self.results = results
    }

    /// The fields that must agree across receivers: outcome, family, stage, code class. Nil when
    /// the case did not run there (skipped or error).
    static func classFields(_ result: CaseResult) -> [String]? {
        switch result.status {
        case .skipped, .error: return nil
        case .passed, .failed: break
        }
        let observed = result.observed
        return [
            observed?.outcome.rawValue ?? "-", observed?.family?.rawValue ?? "-", observed?.stage?.rawValue ?? "-",
            observed?.reply.map { "\($0.code / 100)xx" } ?? "-",
        ]
    }

    /// Code, enhanced code and text: where real MTAs may word the same decision their own way.
    static func exactFields(_ result: CaseResult) -> [String]? {
        guard classFields(result) != nil else { return nil }
        let reply = result.observed?.reply
        return [reply.map { String($0.code) } ?? "-", reply?.enhanced ?? "-", reply.map { comparable($0.text) } ?? "-"]
    }

    /// A reply text without what differs in every run: the queue ID after "queued as".
    static func comparable(_ text: String) -> String {
        guard let range = text.range(of: "queued as ") else { return text }
        let rest = text[range.upperBound...].drop { !$0.isWhitespace }
        return text[..<range.upperBound] + "ID" + rest
    }

    static let classNames = ["outcome", "family", "stage", "code class"]
    static let exactNames = ["code", "enhanced", "text"]

    /// The targets the case ran on.
    public var ran: [(target: ReceiverTarget, result: CaseResult)] { results.filter { Self.classFields($0.result) != nil } }

    private func differing(_ fields: (CaseResult) -> [String]?, _ names: [String]) -> [String] {
        let values = ran.compactMap { fields($0.result) }
        guard let first = values.first else { return [] }
        return names.indices.compactMap { index in values.allSatisfy { $0[index] == first[index] } ? nil : names[index] }
    }

    /// Outcome-class fields that differ between the receivers the case ran on (empty when they
    /// agree or it ran on fewer than two).
    public var differences: [String] { differing(Self.classFields, Self.classNames) }

    /// Exact reply fields that differ: MTA differences, listed but not failing parity.
    public var mtaDifferences: [String] { differing(Self.exactFields, Self.exactNames) }

    /// Why the case did not run on a target, per target.
    public var notRun: [(target: ReceiverTarget, reason: String)] {
        results.compactMap { entry in
            switch entry.result.status {
            case .skipped(let reason): (entry.target, reason)
            case .error(let message): (entry.target, "error: " + message)
            case .passed, .failed: nil
            }
        }
    }
}

extension Harness {
    /// Runs every case on each of `targets`. A difference in outcome, family, stage or code class
    /// is a parity failure; the exact reply's differences are MTA differences.
    public static func parityRows(
        _ cases: [ScenarioCase], targets: [ReceiverTarget] = [.builtin, .postfix], configuration: RunConfiguration, jobs: Int, logger: Logger
    ) async -> [ParityRow] {
        var columns: [[CaseResult]] = []
        for target in targets {
            var settings = configuration
            settings.target = target
            columns.append(await ScenarioRun(runner: CaseRunner(configuration: settings, logger: logger), jobs: jobs).run(cases))
        }
        return cases.indices.map { index in
            ParityRow(name: cases[index].name, results: targets.indices.map { (targets[$0], columns[$0][index]) })
        }
    }

    /// `mxharness parity PATHS --targets A,B,...`: the table, differences marked; exit 1 when the
    /// outcome class of any case differs between receivers it ran on.
    public static func parity(
        paths: [String], targets: [ReceiverTarget] = [.builtin, .postfix], jobs: Int, configuration: RunConfiguration, logger: Logger
    ) async -> Int32 {
        let out = Output()
        guard let cases = Preflight.cases(paths, logger: logger) else { return HarnessExit.usage }
        let rows = await parityRows(cases, targets: targets, configuration: configuration, jobs: jobs, logger: logger)
        out.line(renderParity(rows, targets: targets, terminal: Terminal.detect()))
        return rows.contains { !$0.differences.isEmpty } ? HarnessExit.failures : HarnessExit.success
    }

    public static func renderParity(_ rows: [ParityRow], targets: [ReceiverTarget] = [.builtin, .postfix], terminal: Terminal) -> String {
        let header = ["case"] + targets.map(\.rawValue) + [""]
        var table: [[String]] = []
        var marks: [String] = []
        var same = 0, differing = 0, single = 0, mta = 0
        var mtaLines: [String] = []
        var skipLines: [String] = []
        for row in rows {
            let cells = row.results.map { entry -> String in
                if let fields = ParityRow.classFields(entry.result) { return fields.joined(separator: " ") }
                if case .error = entry.result.status { return "error" }
                return "skipped"
            }
            let differences = row.differences
            let mark: String
            if row.ran.count < 2 {
                single += 1
                mark = "ran on \(row.ran.count) target\(row.ran.count == 1 ? "" : "s")"
            } else if differences.isEmpty {
                same += 1
                mark = "same"
            } else {
                differing += 1
                mark = "DIFFERENT: " + differences.joined(separator: ", ")
            }
            if row.ran.count >= 2, !row.mtaDifferences.isEmpty {
                mta += 1
                let replies = row.ran.map { entry in
                    "\(entry.target): \(ParityRow.exactFields(entry.result)?.joined(separator: " ") ?? "-")"
                }
                mtaLines.append("  \(row.name) (\(row.mtaDifferences.joined(separator: ", "))): " + replies.joined(separator: " | "))
            }
            for (target, reason) in row.notRun { skipLines.append("  \(row.name) on \(target): \(reason)") }
            table.append([row.name] + cells + [mark])
            marks.append(mark)
        }
        var widths = header.map(\.count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ line: [String]) -> String {
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var lines = [terminal.bold(format(header))]
        for (line, mark) in zip(table, marks) {
            let text = format(line)
            lines.append(mark.hasPrefix("DIFFERENT") ? terminal.red(text) : mark == "same" ? text : terminal.yellow(text))
        }
        if !mtaLines.isEmpty {
            lines.append("")
            lines.append(terminal.bold("MTA differences (same outcome class, the exact reply differs):"))
            lines += mtaLines
        }
        if !skipLines.isEmpty {
            lines.append("")
            lines.append(terminal.bold("Not run:"))
            lines += skipLines
        }
        lines.append("")
        lines.append(
            "parity (\(targets.map(\.rawValue).joined(separator: ", "))): \(same) same, \(differing) different, "
                + "\(mta) with MTA differences, \(single) ran on fewer than two targets")
        return lines.joined(separator: "\n")
    }
}
