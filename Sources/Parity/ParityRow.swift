import Foundation
import Runner
import SMTPProtocol
import Scenario

/// One case on every side of a parity run, and how the sides compare.
///
/// Outcome, family, stage and the reply's class (2xx/4xx/5xx) must agree on every side that ran;
/// a difference there is a `difference`. A side that errored (the harness could not run the case
/// there: an MTA that did not start, an engine that crashed) is a difference too, against every
/// other side: an error is a verdict nobody checked, never a skip. The exact code, the enhanced
/// code, the list of attempts (family, result, stage and code of each) and, between receivers, the
/// action and score of each engine both ran (`engineDifferences`) are compared too: for
/// sides that mirror each other (`ParityAxis.mirrors`) a mismatch is a difference as well, for the
/// others it is an `mtaDifference`, shown but not failing.
public struct ParityRow: Sendable {
    public var name: String
    /// One result per side, in the axis's order.
    public var results: [CaseResult]
    public var labels: [String]
    /// One finding per side that disagrees with the reference (the first side that ran), and one
    /// per side that errored.
    public private(set) var differences: [Finding] = []
    public private(set) var mtaDifferences: [Finding] = []

    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// The side that differs from the reference.
        public var side: String
        /// The reference side.
        public var reference: String
        /// The fields that differ: `outcome`, `family`, `stage`, `class`, `code`, `enhanced`, `attempts`,
        /// `engines (...)`; for a side that errored, `error: MESSAGE`.
        public var fields: [String]

        public var description: String {
            reference.isEmpty
                ? "\(side): \(fields.joined(separator: ", "))"
                : "\(side) vs \(reference): \(fields.joined(separator: ", "))"
        }
    }

    /// Compares `results` (one per side of `axis`, in its order).
    public static func compare(name: String, results: [CaseResult], axis: ParityAxis) -> ParityRow {
        ParityRow(name: name, results: results, axis: axis)
    }

    init(name: String, results: [CaseResult], axis: ParityAxis) {
        self.name = name
        self.results = results
        self.labels = axis.labels
        for side in results.indices {
            if case .error(let message) = results[side].status {
                differences.append(Finding(side: labels[side], reference: "", fields: ["error: " + message]))
            }
        }
        let ran = results.indices.filter { Self.fields(results[$0]) != nil }
        guard let reference = ran.first, let referenceFields = Self.fields(results[reference]) else { return }
        for side in ran.dropFirst() {
            guard let fields = Self.fields(results[side]) else { continue }
            let classDifferences = referenceFields.classDifferences(fields)
            var exactDifferences = referenceFields.exactDifferences(fields)
            if case .receivers = axis {
                exactDifferences += Self.engineDifferences(results[reference], results[side])
            }
            if !classDifferences.isEmpty || (axis.mirrors(reference, side) && !exactDifferences.isEmpty) {
                differences.append(
                    Finding(
                        side: labels[side], reference: labels[reference], fields: classDifferences + exactDifferences))
            } else if !exactDifferences.isEmpty {
                mtaDifferences.append(
                    Finding(side: labels[side], reference: labels[reference], fields: exactDifferences))
            }
        }
    }

    /// Receiver parity: an engine both receivers ran (rspamd beside the built-in MX and beside
    /// Postfix) must have judged each message alike, its action and score, or the two were told
    /// different facts. `engines (rspamd: 3.30 soft reject vs 1.00 no action)`. Engines only one
    /// side reports (policyd-spf, which the built-in MX models) are not compared.
    static func engineDifferences(_ reference: CaseResult, _ side: CaseResult) -> [String] {
        func judged(_ result: CaseResult) -> [String: [String]] {
            Dictionary(grouping: result.evidence?.engines ?? [], by: \.engine).mapValues { verdicts in
                verdicts.map { verdict in
                    (verdict.score.map { String(format: "%.2f ", $0) } ?? "") + verdict.action
                }
            }
        }
        let (mine, theirs) = (judged(reference), judged(side))
        return mine.keys.sorted().compactMap { engine in
            guard let a = mine[engine], let b = theirs[engine], a != b else { return nil }
            return "engines (\(engine): \(b.joined(separator: ", ")) vs \(a.joined(separator: ", ")))"
        }
    }

    /// Why a side was skipped, per side; nil for sides that ran or errored.
    public var skipReasons: [String?] {
        results.map { result in
            if case .skipped(let reason) = result.status { return reason }
            return nil
        }
    }

    /// A side errored.
    public var hasError: Bool {
        results.contains { if case .error = $0.status { true } else { false } }
    }

    /// Fewer than two sides ran and none errored: nothing was compared, and nothing failed. (A row
    /// with an errored side is a difference, whatever the other sides did.)
    public var isSkipped: Bool { !hasError && results.indices.filter { Self.fields(results[$0]) != nil }.count < 2 }

    /// What a side's delivery ended in, as compared.
    struct Fields: Sendable, Hashable {
        var outcome: DeliveryOutcome
        var family: String
        var stage: String
        var replyClass: String
        var code: String
        var enhanced: String
        /// `ipv6 tempfailed rcpt 450, ipv4 accepted data 250`.
        var attempts: String

        func classDifferences(_ other: Fields) -> [String] {
            var out: [String] = []
            if outcome != other.outcome { out.append("outcome") }
            if family != other.family { out.append("family") }
            if stage != other.stage { out.append("stage") }
            if replyClass != other.replyClass { out.append("class") }
            return out
        }

        func exactDifferences(_ other: Fields) -> [String] {
            var out: [String] = []
            if replyClass == other.replyClass && code != other.code { out.append("code") }
            if enhanced != other.enhanced { out.append("enhanced") }
            if attempts != other.attempts { out.append("attempts") }
            return out
        }

        /// `bounced ipv6 rcpt 550 5.7.25`.
        var text: String { [outcome.rawValue, family, stage, code, enhanced].joined(separator: " ") }
    }

    /// The compared fields of a result; nil when it did not run.
    static func fields(_ result: CaseResult) -> Fields? {
        switch result.status {
        case .skipped, .error: return nil
        case .passed, .failed: break
        }
        guard let observed = result.observed else { return nil }
        let reply = observed.reply
        return Fields(
            outcome: observed.outcome, family: observed.family?.rawValue ?? "-", stage: observed.stage?.rawValue ?? "-",
            replyClass: reply.map { "\($0.code / 100)xx" } ?? "-", code: reply.map { String($0.code) } ?? "-",
            enhanced: reply?.enhanced ?? "-",
            attempts: observed.attempts.isEmpty
                ? "(no attempt)"
                : observed.attempts.map {
                    "\($0.family.rawValue) \($0.result.rawValue) \($0.stage?.rawValue ?? "-") \($0.reply.map { String($0.code) } ?? "-")"
                }.joined(separator: ", "))
    }
}
