import DNSCore
import Foundation
import Policy
import SMTPProtocol
import Scenario

/// A scenario that reproduces a complaint, with an account of where each value came from.
public struct Reproduction: Sendable {
    public var evidence: Evidence
    public var diagnosis: Diagnosis
    /// The scenario file (the format of docs/scenario-format.md, with comments).
    public var yaml: String
    /// One line per value: what it is and where it came from (read, inferred or assumed).
    public var report: [String]
    /// What the input cannot tell and the user may want to replace (assumed values).
    public var todos: [String]
    /// What the input tells but the scenario does not state, each with the key and why: nothing
    /// read is dropped without a word.
    public var omissions: [String]
    /// True when the world as written makes the receiver give the observed reply, so `mxharness run`
    /// reproduces it without edits (false only for a reply that is no failure at all).
    public var reproducesAsWritten: Bool
    /// `mxharness capture ...` for this delivery, to record the real DNS instead of the written world.
    public var captureCommand: String
}

/// Turns `Evidence` into a scenario whose own world produces its expectations: the envelope and
/// client as observed, a policy that answers the observed reply at the observed stage (the check
/// the words point to, with the map's `reply:` for the receiver's own words), the records that make
/// that check fail, and `expect` as the built-in MX and the delivery model produce it.
public enum ReproductionWriter {
    /// `name` names the case when the scenario is not written to a file (default: from the reply).
    public static func reproduce(
        _ observed: Evidence, input: String, scenarioPath: String? = nil, name caseName: String? = nil
    ) -> Reproduction {
        var evidence = observed
        if let reply = evidence.reply { evidence.reply = WorldChoices.sanitized(reply) }
        var report: [String] = evidence.provenance.map {
            "\($0.field): \($0.value) — \($0.inferred ? "inferred from" : "read from") \($0.source)"
        }
        var todos: [String] = []
        func assume(_ field: String, _ value: String, _ why: String) {
            report.append("\(field): \(value) — ASSUMED: \(why)")
            todos.append("\(field): \(value) (assumed: \(why))")
        }
        var omissions: [String] = []
        /// What was read but is not in the scenario as read: named, with why (never a silent drop).
        func leaveOut(_ key: String, _ why: String) {
            report.append("\(key): LEFT OUT — \(why)")
            omissions.append("\(key): \(why)")
        }
        if let read = evidence.reply, read.text.isEmpty {
            // A reply needs a text (RFC 5321 4.2): RFC 5321's own for the code, said as assumed.
            let text = WorldChoices.standardText(read.code)
            evidence.reply = SMTPReply(code: read.code, enhanced: read.enhanced, text)
            assume(
                "receiver.policy.reply.text", "\"\(text)\"",
                "the input gives the reply no text; RFC 5321 4.2.2's text for \(read.code)")
        }
        let reply = evidence.reply ?? SMTPReply(code: 250, "")
        let world = WorldChoices(evidence: evidence, assume: assume)
        var helo = world.helo

        // The check the words point to; then a HELO that fails it when it is a HELO check.
        var diagnosis = ReplyDiagnosis.diagnose(evidence, client: world.client, helo: helo)
        if let check = diagnosis.check,
            let failing = WorldChoices.failingHELO(for: check, helo: helo, avoiding: world.namesWithRecords)
        {
            assume(
                "sender.helo", failing, "the observed HELO \(helo) would pass check \(check.name); a name that fails it"
            )
            helo = failing
            diagnosis = ReplyDiagnosis.diagnose(evidence, client: world.client, helo: helo)
        }
        report.append("receiver.policy: \(diagnosis.policy.yaml) — \(diagnosis.explanation)")
        for difference in diagnosis.differences { report.append("NOTE: \(difference)") }

        let policy = diagnosis.policy.policy
        var mailFrom = world.mailFrom
        if mailFrom.isEmpty, diagnosis.check == .spf || diagnosis.check == .spfPass,
            !DNSName.isValidHostname(helo) || !helo.contains(".")
        {
            // SPF of the null sender is the HELO's (RFC 7208 2.3); an address literal has no records.
            mailFrom = "postmaster@sender.test"
            assume(
                "sender.mail_from", mailFrom,
                "the null sender's SPF identity is the HELO \(helo), which cannot hold an SPF record")
        }
        let senderDomain = mailFrom.isEmpty ? helo : (ReplyText.domain(of: mailFrom) ?? helo)
        let (records, faults) = world.records(for: diagnosis, helo: helo, senderDomain: senderDomain)

        // The outcome as the sending MTA records the reply (the format's postfix delivery model).
        var outcome: DeliveryOutcome
        var senderPostfix: [String: String] = [:]
        let builtin = diagnosis.builtinReply
        let produced = builtin ?? reply
        switch produced.code {
        case 200..<400: outcome = .delivered
        case 400..<500: outcome = .deferred
        default:
            if policy.rejectAt == .greeting {
                if evidence.observedOutcome == .bounced {
                    // Postfix bounces a 5xx greeting at once only with smtp_skip_5xx_greeting = no.
                    senderPostfix["smtp_skip_5xx_greeting"] = "no"
                    outcome = .bounced
                    report.append(
                        "sender.postfix: {smtp_skip_5xx_greeting: \"no\"} — the input says the delivery bounced after a 5xx greeting, which Postfix does only with smtp_skip_5xx_greeting = no (smtp_proto.c turns a 5xx greeting into 4xx otherwise)"
                    )
                } else {
                    outcome = .deferred
                    if evidence.observedOutcome == nil {
                        assume(
                            "sender.postfix.smtp_skip_5xx_greeting", "yes (Postfix's default)",
                            "the input does not say whether the 5xx greeting bounced or was deferred; with the default the sender tries the next address and defers"
                        )
                    }
                }
            } else {
                outcome = .bounced
            }
        }
        report.append(
            "expect.outcome: \(outcome) — \(outcomeReason(produced, rejectAt: policy.rejectAt, outcome: outcome))")

        // expect.stage: only a stage the policy answers at, and only one the input tells.
        var stage: SMTPStage?
        if let observedStage = evidence.stage {
            if observedStage == policy.rejectAt.smtpStage {
                stage = observedStage
            } else {
                leaveOut(
                    "expect.stage",
                    "the input says \(observedStage), which the written policy cannot answer at (it answers at \(policy.rejectAt.rawValue))"
                )
            }
        } else {
            leaveOut(
                "expect.stage",
                "the input does not say which command the reply answered (the scenario answers at \(policy.rejectAt.rawValue))"
            )
        }
        if let observed = evidence.observedOutcome, observed != outcome {
            let why =
                observed == .bounced && outcome == .deferred
                ? "the input says the delivery \(observed.rawValue): a \(produced.code) is deferred at each attempt and bounced only when the queue lifetime runs out (maximal_queue_lifetime), which one run does not wait for; the scenario expects \(outcome.rawValue)"
                : "the input says the delivery \(observed.rawValue); the reply \(produced.code) at \(policy.rejectAt.rawValue) ends it \(outcome.rawValue) for the postfix delivery model"
            leaveOut("expect.outcome \(observed.rawValue)", why)
        }
        if let original = observed.reply, let written = evidence.reply, original.text != written.text {
            let why =
                WorldChoices.printable(original.text) != original.text
                ? "the reply's characters outside printable ASCII are written as spaces: a reply line carries ASCII only (RFC 5321 2.4)"
                : "the closing quotation mark or parenthesis after the reply is the text around it, not the receiver's"
            leaveOut("expect.text (as read)", why)
        }

        let checkName = diagnosis.check?.name ?? "unexplained"
        let name = "repro-\(reply.code)-\(reply.enhanced ?? "x")-\(diagnosis.standIn ? "stand-in" : checkName)"
            .lowercased()
            .map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "-" }
        let captureCommand =
            "mxharness capture --resolver RESOLVER --client \(world.client) --helo \(helo) --from \(mailFrom.isEmpty ? "\"\"" : mailFrom) --to \(world.rcptTo[0])"
            + (scenarioPath.map { " --complaint \($0)" } ?? "") + " -o replay.yaml"
        let firstLine =
            input.split(whereSeparator: \.isNewline).first { $0.range(of: "\(reply.code)") != nil }.map(String.init)
            ?? input.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""

        var out: [String] = []
        out.append("# Written by mxharness repro from the input, read as: \(evidence.source).")
        out.append("# Observed: \(reply) at \(evidence.stage?.rawValue ?? "an unknown stage")")
        out += YAMLText.comment("Policy: \(diagnosis.explanation)", indent: 0)
        for difference in diagnosis.differences { out += YAMLText.comment("NOTE: \(difference)", indent: 0) }
        for omission in omissions { out += YAMLText.comment("LEFT OUT: \(omission)", indent: 0) }
        out.append("# Where each value came from:")
        for line in report
        where !line.hasPrefix("receiver.policy") && !line.hasPrefix("NOTE") && !line.contains(": LEFT OUT — ") {
            out.append("#   " + line.replacingOccurrences(of: "\n", with: " "))
        }
        out.append("# To record the real DNS for this delivery instead of the world written here:")
        out.append("#   \(captureCommand)")
        // Written to a file, the case is named after it (the format's default), so that several
        // reproductions run together keep apart.
        if scenarioPath == nil {
            out.append("name: \(YAMLText.scalar(caseName.map { $0 + "-" + String(name) } ?? String(name)))")
        }
        let clipped = firstLine.count > 300 ? firstLine.prefix(300) + "..." : firstLine
        out.append(
            "description: \(YAMLText.quoted("Reproduces \(reply) at \(evidence.stage?.rawValue ?? "an unknown stage") (\(evidence.source)): \(WorldChoices.printable(String(clipped)))"))"
        )
        out.append(
            "tags: [repro, \(world.client.family.rawValue)\(diagnosis.check.map { ", " + YAMLText.scalar($0.name) } ?? "")]"
        )
        out.append("")
        out.append("dns:")
        out.append("  records:")
        out += records
        if !faults.isEmpty {
            out.append("  faults:")
            out += faults
        }
        out.append("")
        out.append("receiver:")
        out.append("  hostname: \(YAMLText.scalar(world.receiverName))")
        out.append("  addresses: [\(YAMLText.quoted(world.receiverAddress.description))]")
        out.append("  policy: \(diagnosis.policy.yaml)")
        out.append("")
        out.append("sender:")
        out.append("  addresses: {\(world.client.family.rawValue): \(YAMLText.quoted(world.client.description))}")
        out.append("  helo: \(YAMLText.scalar(helo))")
        out.append("  mail_from: \(mailFrom.isEmpty ? "\"\"" : YAMLText.scalar(mailFrom))")
        out.append("  rcpt_to: [\(world.rcptTo.map(YAMLText.scalar).joined(separator: ", "))]")
        if !senderPostfix.isEmpty {
            out.append(
                "  postfix: {\(senderPostfix.sorted { $0.key < $1.key }.map { "\($0.key): \(YAMLText.quoted($0.value))" }.joined(separator: ", "))}"
            )
        }
        out.append("")
        out.append("expect:")
        out.append("  outcome: \(outcome.rawValue)")
        out.append("  family: \(world.client.family.rawValue)")
        if let stage, produced.code >= 400 { out.append("  stage: \(stage.rawValue)") }
        // A delivery ends with the MX's own 250 to the message, whatever the input's success said.
        if produced.code >= 400 { out.append("  code: \(produced.code)") }
        if let enhanced = produced.enhanced, produced.code >= 400 { out.append("  enhanced: \(enhanced)") }
        if produced.code >= 400, var text = produced.text.isEmpty ? nil : produced.text {
            // `/.../` would be read as a regular expression; a substring without the first slash says the same.
            if text.count >= 2, text.hasPrefix("/"), text.hasSuffix("/") { text.removeFirst() }
            out.append("  text: \(YAMLText.quoted(text))")
        }
        return Reproduction(
            evidence: evidence, diagnosis: diagnosis, yaml: out.joined(separator: "\n") + "\n", report: report,
            todos: todos, omissions: omissions,
            reproducesAsWritten: reply.code >= 400 && builtin != nil, captureCommand: captureCommand)
    }

    private static func outcomeReason(_ reply: SMTPReply, rejectAt: RejectStage, outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .delivered: return "the reply \(reply.code) is a success"
        case .deferred where reply.code >= 500:
            return "a 5xx greeting makes the sending MTA try the next address and defer (smtp_skip_5xx_greeting = yes)"
        case .deferred:
            return "a 4xx makes the sending MTA try the next address; with the one address written here it defers"
        case .bounced where rejectAt == .greeting: return "a 5xx greeting bounces with smtp_skip_5xx_greeting = no"
        case .bounced: return "a 5xx at \(rejectAt.rawValue) bounces at once"
        }
    }
}
