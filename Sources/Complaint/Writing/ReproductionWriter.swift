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
    /// What the input cannot tell and the user should fill in (the file's TODO lines).
    public var todos: [String]
    /// True when the world as written (TODO lines left as they are) already makes the receiver fail
    /// the check the reply points to, so `mxharness run` reproduces the reply without edits.
    public var reproducesAsWritten: Bool
    /// `mxharness capture ...` for this delivery, to record the real DNS in place of the TODO lines.
    public var captureCommand: String
}

/// Turns `Evidence` into a scenario: the envelope and client as observed, the receiver policy that
/// explains the reply, `expect` as the sending MTA records the reply (the format's delivery model),
/// and DNS records the input cannot tell left as marked TODO comments.
public enum ReproductionWriter {
    public static func reproduce(_ evidence: Evidence, input: String, scenarioPath: String? = nil) -> Reproduction {
        var report: [String] = evidence.provenance.map { "\($0.field): \($0.value) — \($0.inferred ? "inferred from" : "read from") \($0.source)" }
        func assume(_ field: EvidenceField, _ value: String, _ why: String) {
            report.append("\(field): \(value) — ASSUMED: \(why)")
        }
        let reply = evidence.reply ?? SMTPReply(code: 250, "")

        // The client: as observed, or a documentation address of the receiver's family.
        let client: IPAddress
        if let observed = evidence.clientAddress {
            client = observed
        } else {
            let family = evidence.receiverAddress?.family ?? .ipv6
            client = family == .ipv6 ? IPAddress("2001:db8:5::25")! : IPAddress("203.0.113.25")!
            assume(.clientAddress, client.description, "the input does not name the sending address (TODO: put yours in sender.addresses)")
        }
        let family = client.family

        let rcptTo: [String]
        if evidence.rcptTo.isEmpty {
            rcptTo = ["postmaster@example.test"]
            assume(.rcptTo, rcptTo[0], "the input names no recipient (TODO)")
        } else {
            rcptTo = evidence.rcptTo
        }
        let rcptDomain = ReplyText.domain(of: rcptTo[0]) ?? "example.test"

        let receiverName: String
        if let name = evidence.receiverName {
            receiverName = name
        } else {
            receiverName = "mx." + rcptDomain
            assume(.receiverName, receiverName, "the input does not name the MX; mx. plus the recipient domain")
        }
        let receiverAddress: IPAddress
        if let observed = evidence.receiverAddress, observed.family == family {
            receiverAddress = observed
        } else {
            var candidate = family == .ipv6 ? IPAddress("2001:db8::10")! : IPAddress("192.0.2.10")!
            if candidate == client { candidate = family == .ipv6 ? IPAddress("2001:db8::11")! : IPAddress("192.0.2.11")! }
            receiverAddress = candidate
            assume(.receiverAddress, candidate.description, "the input does not say where the MX listens; a documentation address of the client's family")
        }

        let clientName = evidence.clientName.flatMap { $0 != "unknown" && DNSName.isValidHostname($0) && $0.contains(".") ? $0 : nil }
        let helo: String
        if let observed = evidence.helo {
            helo = observed
        } else if let clientName {
            helo = clientName
            assume(.helo, helo, "the input has no HELO; the client's host name, as MTAs say HELO with their own name")
        } else {
            helo = "mail.sender.test"
            assume(.helo, helo, "the input has no HELO (TODO: the sending MTA's name)")
        }
        let mailFrom: String
        if let observed = evidence.mailFrom {
            mailFrom = observed
        } else {
            let labels = helo.split(separator: ".")
            let domain = labels.count >= 3 ? labels.dropFirst().joined(separator: ".") : "sender.test"
            mailFrom = "postmaster@" + domain
            assume(.mailFrom, mailFrom, "the input has no envelope sender (TODO)")
        }
        let senderDomain = mailFrom.isEmpty ? helo : (ReplyText.domain(of: mailFrom) ?? helo)
        let stage = evidence.stage ?? .rcpt

        let diagnosis = ReplyDiagnosis.diagnose(evidence, client: client, helo: helo)
        report.append("receiver.policy: \(diagnosis.policy.yaml) — \(diagnosis.explanation)")
        for difference in diagnosis.differences { report.append("NOTE: \(difference)") }

        // dns.records: what is known, then TODO comments for what the input cannot tell.
        var records: [String] = []
        records.append("    # Known from the input:")
        let mx = ResourceRecord(owner: rcptDomain, data: .mx(preference: 10, exchange: receiverName))
        records.append("    - \(YAMLText.record(mx))")
        let mxAddress = ResourceRecord(owner: receiverName, data: family == .ipv6 ? .aaaa(receiverAddress) : .a(receiverAddress))
        records.append("    - \(YAMLText.record(mxAddress))")
        if let clientName, diagnosis.check != .fcrdns, diagnosis.check != .ptr {
            records.append("    # the receiver logged the client as \(clientName), a name it shows only once the PTR is forward-confirmed:")
            records.append("    - \(YAMLText.record(ResourceRecord(owner: client.reverseName, data: .ptr(clientName))))")
            records.append("    - \(YAMLText.record(ResourceRecord(owner: clientName, data: family == .ipv6 ? .aaaa(client) : .a(client))))")
        }
        var todos: [String] = []
        var reproduces = true
        switch diagnosis.check {
        case .dnsbl(let zone):
            let listing = (client.reversedLabels + [zone]).joined(separator: ".")
            records.append("    # the reply says the client is listed in \(zone); 127.0.0.2 is the usual listing code (a guess):")
            records.append("    - \(YAMLText.record(ResourceRecord(owner: listing, data: .a(IPAddress("127.0.0.2")!))))")
        default:
            break
        }
        let needs = Self.needs(diagnosis, client: client, helo: helo, senderDomain: senderDomain, clientName: clientName)
        reproduces = needs.reproducesAsWritten
        if !needs.lines.isEmpty {
            for line in needs.lines { records.append("    # " + line) }
            todos.append(contentsOf: needs.todos)
        }
        if !diagnosis.recognized, reply.code >= 400 {
            records.append("    # TODO: the records the receiver's policy looked at; the reply does not say which check failed,")
            records.append("    #   so receiver.policy is open. Set the policy and the records that make it fail.")
            todos.append("the receiver's policy and the records it looked at (the reply matches no modelled check)")
            reproduces = false
        }
        if evidence.clientAddress == nil { todos.append("sender.addresses: your sending address (assumed \(client))") }

        let outcome: DeliveryOutcome
        switch reply.code {
        case 200..<400: outcome = .delivered
        case 400..<500: outcome = .deferred
        default: outcome = stage == .greeting ? .deferred : .bounced
        }
        report.append("expect.outcome: \(outcome) — \(outcomeReason(reply, stage: stage, outcome: outcome))")

        // expect.text: the whole reply when the built-in MX words it the same, else the identifying words
        // when it says them too, else nothing (a text the receiver never said would be no observation).
        var text: String? = reply.text.isEmpty ? nil : reply.text
        var textNote: String?
        if let builtin = diagnosis.builtinReply, builtin.text.range(of: reply.text, options: .caseInsensitive) == nil {
            if let phrase = diagnosis.phrase, builtin.text.range(of: phrase, options: .caseInsensitive) != nil {
                text = phrase
                textNote = "expect.text: \"\(phrase)\" — the words that identify the check; the built-in MX says \"\(builtin.text)\""
            } else {
                text = nil
                textNote = "expect.text: left out — the built-in MX says \"\(builtin.text)\" where the receiver said \"\(reply.text)\""
            }
        }
        if let textNote { report.append(textNote) }
        if let current = text, current.count >= 2, current.hasPrefix("/"), current.hasSuffix("/") { text = String(current.dropFirst()) }

        let checkName = diagnosis.check?.name ?? "unexplained"
        let name = "repro-\(reply.code)-\(reply.enhanced ?? "x")-\(checkName)".lowercased()
            .map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "-" }
        let captureCommand = "mxharness capture --resolver RESOLVER --client \(client) --helo \(helo) --from \(mailFrom.isEmpty ? "\"\"" : mailFrom) --to \(rcptTo[0])"
            + (scenarioPath.map { " --complaint \($0)" } ?? "") + " -o replay.yaml"
        let firstLine = input.split(whereSeparator: \.isNewline).first { $0.range(of: "\(reply.code)") != nil }.map(String.init)
            ?? input.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""

        var out: [String] = []
        out.append("# Written by mxharness repro from the input, read as: \(evidence.source).")
        out.append("# Observed: \(reply) at \(stage)")
        out += YAMLText.comment("Policy: \(diagnosis.explanation)", indent: 0)
        for difference in diagnosis.differences { out += YAMLText.comment("NOTE: \(difference)", indent: 0) }
        out.append("# Where each value came from:")
        for line in report where !line.hasPrefix("receiver.policy") && !line.hasPrefix("NOTE") { out.append("#   " + line) }
        if reproduces {
            out.append("# As written (without the TODO records) the world makes the receiver fail the same check.")
        } else {
            out.append("# The TODO records below decide the outcome: fill them in before running.")
        }
        out.append("# To record the real DNS for this delivery instead of guessing it:")
        out.append("#   \(captureCommand)")
        out.append("name: \(YAMLText.scalar(String(name)))")
        out.append("description: \(YAMLText.quoted("Reproduces \(reply) at \(stage) (\(evidence.source)): \(firstLine.count > 300 ? firstLine.prefix(300) + "..." : firstLine)"))")
        out.append("tags: [repro, \(family.rawValue)\(diagnosis.check.map { ", " + YAMLText.scalar($0.name) } ?? "")]")
        out.append("")
        out.append("dns:")
        out.append("  records:")
        out += records
        out.append("")
        out.append("receiver:")
        out.append("  hostname: \(YAMLText.scalar(receiverName))")
        out.append("  addresses: [\(YAMLText.quoted(receiverAddress.description))]")
        out.append("  policy: \(diagnosis.policy.yaml)")
        out.append("")
        out.append("sender:")
        out.append("  addresses: {\(family.rawValue): \(YAMLText.quoted(client.description))}")
        out.append("  helo: \(YAMLText.scalar(helo))")
        out.append("  mail_from: \(mailFrom.isEmpty ? "\"\"" : YAMLText.scalar(mailFrom))")
        out.append("  rcpt_to: [\(rcptTo.map(YAMLText.scalar).joined(separator: ", "))]")
        out.append("")
        out.append("expect:")
        out.append("  outcome: \(outcome.rawValue)")
        out.append("  family: \(family.rawValue)")
        out.append("  stage: \(stage.rawValue)")
        out.append("  code: \(reply.code)")
        if let enhanced = reply.enhanced { out.append("  enhanced: \(enhanced)") }
        if let text { out.append("  text: \(YAMLText.quoted(text))") }
        return Reproduction(
            evidence: evidence, diagnosis: diagnosis, yaml: out.joined(separator: "\n") + "\n", report: report, todos: todos,
            reproducesAsWritten: reproduces, captureCommand: captureCommand)
    }

    private static func outcomeReason(_ reply: SMTPReply, stage: SMTPStage, outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .delivered: return "the reply \(reply.code) is a success"
        case .deferred where reply.code >= 500: return "a 5xx greeting makes the sending MTA try the next address and defer (smtp_skip_5xx_greeting)"
        case .deferred: return "a 4xx makes the sending MTA try the next address; with the one address observed it defers"
        case .bounced: return "a 5xx at \(stage) bounces at once"
        }
    }

    struct Needs {
        var lines: [String] = []
        var todos: [String] = []
        var reproducesAsWritten = true
    }

    /// The TODO comment lines for the records a check looks at, and whether their absence already fails it.
    static func needs(_ diagnosis: Diagnosis, client: IPAddress, helo: String, senderDomain: String, clientName: String?) -> Needs {
        var needs = Needs()
        let addressType = client.family == .ipv6 ? "AAAA" : "A"
        let ptr = "TODO: PTR for \(client) — unknown from the input."
        func add(_ todo: String, _ lines: [String]) {
            needs.todos.append(todo)
            needs.lines.append(contentsOf: lines)
        }
        let checks: [Check]
        if case .preset(let preset) = diagnosis.policy, preset == .gmailLike || preset == .microsoftLike {
            checks = diagnosis.policy.policy.checks(for: client.family)
        } else {
            checks = diagnosis.check.map { [$0] } ?? []
        }
        for check in checks {
            let failing = check == diagnosis.check
            switch check {
            case .fcrdns where failing:
                add("PTR for \(client) and its name's \(addressType)", [
                    ptr + " The reply says the receiver could not confirm it:",
                    "  no PTR (as written here), a PTR whose name has no \(addressType) for \(client),\(diagnosis.builtinReply?.isTransientFailure == true ? " or a DNS error (dns.faults)," : "")",
                    "  e.g. - \(client) PTR host.sender.test.  and  - host.sender.test. \(addressType) \(client.family == .ipv6 ? "2001:db8:ffff::1" : "198.51.100.1")",
                ])
            case .fcrdns:
                add("PTR for \(client) and its name's \(addressType) (they passed)", [
                    ptr + " It passed: the receiver went on to other checks. e.g.",
                    "  - \(client) PTR \(clientName ?? "mail.sender.test"). and - \(clientName ?? "mail.sender.test"). \(addressType) \(client)",
                ])
                needs.reproducesAsWritten = false
            case .ptr where failing:
                add("PTR for \(client)", [
                    ptr + " The reply says there was none (as written here)\(diagnosis.builtinReply?.isTransientFailure == true && diagnosis.policy != .preset(.microsoftLike) ? " or the lookup failed (dns.faults)" : "")."])
            case .ptr:
                add("PTR for \(client) (it passed)", [ptr + " It passed: e.g. - \(client) PTR \(clientName ?? "mail.sender.test")."])
                needs.reproducesAsWritten = false
            case .heloResolves:
                add("A/AAAA/MX of \(helo)", ["TODO: A, AAAA or MX of the HELO name \(helo) — the reply says it had none (as written here) or the lookup failed."])
            case .heloMatches:
                add("A/AAAA of \(helo)", ["TODO: A/AAAA of the HELO name \(helo) — the reply says they do not include \(client) (none as written here)."])
            case .heloValid, .heloFQDN:
                break
            case .spf where diagnosis.dnsError:
                add("the SPF walk of \(senderDomain)", [
                    "TODO: \(senderDomain). TXT and what it includes — the reply says a lookup of the SPF walk failed (temperror),",
                    "  e.g. dns.faults: [{name: \(senderDomain), fault: servfail}]"])
                needs.reproducesAsWritten = false
            case .spf:
                let permanent = diagnosis.builtinReply?.enhanced == "5.5.2"
                add("the SPF record of \(senderDomain)", [
                    "TODO: \(senderDomain). TXT — the SPF record then; the reply says SPF ended in \(permanent ? "permerror" : "fail") for \(client),",
                    permanent ? "  e.g. two records: - \(senderDomain). TXT \"v=spf1 -all\"  and  - \(senderDomain). TXT \"v=spf1 ~all\""
                        : "  e.g. - \(senderDomain). TXT \"v=spf1 -all\""])
                needs.reproducesAsWritten = false
            case .spfPass where failing:
                add("the SPF record of \(senderDomain)", [
                    "TODO: \(senderDomain). TXT — the SPF record then; the reply says SPF did not pass for \(client)",
                    "  (none as written here; or neutral, softfail, fail), e.g. - \(senderDomain). TXT \"v=spf1 ~all\""])
            case .spfPass:
                add("the SPF record of \(senderDomain) (it was not reached or passed)", [
                    "TODO: \(senderDomain). TXT — the SPF record then (unknown from the input)."])
            case .dnsbl, .dkim, .dmarc:
                break
            case .spfOrDKIM:
                add("the SPF record of \(senderDomain) and the message's DKIM signature", [
                    "TODO: \(senderDomain). TXT and sender.dkim — the reply says neither SPF nor an aligned DKIM signature passed",
                    "  for \(client), e.g. - \(senderDomain). TXT \"v=spf1 ~all\" and no sender.dkim"])
            }
            // Checks after the failing one were never reached.
            if failing { break }
        }
        return needs
    }
}
