import DNSCore
import Foundation
import Policy
import SMTPProtocol

/// A receiver policy as a scenario writes it: a preset name, or the map form.
public enum PolicyChoice: Sendable, Hashable, CustomStringConvertible {
    case preset(Preset)
    case map(checks: [Check], rejectAt: RejectStage, onFail: FailureMode, reply: CustomReply? = nil)

    public var policy: ReceiverPolicy {
        switch self {
        case .preset(let preset): return preset.policy
        case .map(let checks, let rejectAt, let onFail, let reply):
            return ReceiverPolicy(ipv4: checks, ipv6: checks, rejectAt: rejectAt, onFail: onFail, siteReply: reply)
        }
    }

    /// The value of `receiver.policy` in YAML (flow form for a map).
    public var yaml: String {
        switch self {
        case .preset(let preset): return preset.rawValue
        case .map(let checks, let rejectAt, let onFail, let reply):
            var out =
                "{checks: [\(checks.map(\.name).joined(separator: ", "))], reject_at: \(rejectAt.rawValue), on_fail: \(onFail.rawValue)"
            if let reply {
                out +=
                    ", reply: {code: \(reply.code)\(reply.enhanced.map { ", enhanced: \($0)" } ?? ""), text: \(YAMLText.quoted(reply.text))}"
            }
            return out + "}"
        }
    }

    public var description: String { yaml }
}

/// Which receiver policy explains a reply, and what the built-in MX answers under it.
public struct Diagnosis: Sendable, Hashable {
    /// The check whose failure plays the reply. For a reply that names no modelled check it is a
    /// DNSBL listing on a stand-in zone (`standIn`): the reply is reproduced, its cause is not.
    public var check: Check?
    public var policy: PolicyChoice
    /// Why: the words matched and what they mean.
    public var explanation: String
    /// The words of the reply that identified the check.
    public var phrase: String?
    /// What the built-in MX answers when `check` fails for this client under `policy`.
    public var builtinReply: SMTPReply?
    /// The failure is a DNS error (SPF temperror), not missing or wrong data.
    public var dnsError: Bool
    /// SPF ended in permerror (two records, a broken record).
    public var permerror: Bool = false
    /// The reply names no check mxharness models; `check` is a stand-in.
    public var standIn: Bool = false
    /// Where the built-in MX's answer differs from the observation.
    public var differences: [String]

    public var recognized: Bool { check != nil && !standIn }
}

/// Maps a reply to the check of the scenario format (its Policies table) whose failure explains it,
/// from Postfix's texts (smtpd_check.c), Exim's usual ACL messages, RFC 7372's enhanced codes and
/// provider texts; then to a policy that answers exactly the observed reply at the observed stage
/// (the map's `reply:` when the words differ from the check's own).
public enum ReplyDiagnosis {
    /// The zone of the stand-in DNSBL listing that plays a reply no modelled check explains.
    public static let standInZone = "policy.repro.test"

    struct Rule: Sendable {
        /// A case-insensitive regular expression over `CODE ENHANCED TEXT`; a first group, when
        /// there is one, is a DNSBL zone.
        var pattern: String
        var what: String
        var check: @Sendable (_ reply: SMTPReply, _ zone: String?) -> Check?
        var dnsError = false
        var permerror = false
    }

    static let rules: [Rule] = [
        // Postfix's own texts first (smtpd_check.c): they say exactly which restriction failed.
        Rule(
            pattern: "cannot find your reverse hostname",
            what: "Postfix's reject_unknown_reverse_client_hostname: the client address has no PTR (check ptr)"
        ) { _, _ in .ptr },
        Rule(
            pattern: "cannot find your hostname",
            what:
                "Postfix's reject_unknown_client_hostname: no PTR, or its name does not resolve back to the client (check fcrdns)"
        ) { _, _ in .fcrdns },
        Rule(
            pattern: "Helo command rejected: Host not found",
            what: "Postfix's reject_unknown_helo_hostname: the HELO name has no A, AAAA or MX (check helo-resolves)"
        ) { _, _ in .heloResolves },
        Rule(
            pattern: "Helo command rejected: need fully-qualified hostname",
            what: "Postfix's reject_non_fqdn_helo_hostname (check helo-fqdn)"
        ) { _, _ in .heloFQDN },
        Rule(
            pattern: "Helo command rejected: Invalid name",
            what: "Postfix's reject_invalid_helo_hostname (check helo-valid)"
        ) { _, _ in .heloValid },
        Rule(
            pattern: "Helo command rejected: does not match",
            what: "the HELO name does not resolve to the client address (check helo-matches)"
        ) { _, _ in .heloMatches },
        Rule(
            pattern: #"blocked using ([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)"#,
            what: "Postfix's reject_rbl_client: the client is listed in a DNSBL (check dnsbl:ZONE)"
        ) { _, zone in
            zone.flatMap { Check(name: "dnsbl:" + $0) }
        },
        Rule(
            pattern: #"(?:is in a black list at|listed (?:in|at|on|by)) ([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)"#,
            what: "a DNSBL listing (check dnsbl:ZONE)"
        ) { _, zone in
            zone.flatMap { $0.split(separator: ".").count >= 2 ? Check(name: "dnsbl:" + $0) : nil }
        },
        Rule(
            pattern: "SPF temporary error|SPF.{0,20}temperror",
            what: "SPF (RFC 7208) ended in temperror: a DNS lookup of the SPF walk failed (check spf)",
            check: { _, _ in .spf }, dnsError: true),
        Rule(
            pattern: "SPF permanent error|SPF.{0,20}permerror|^5\\d\\d 5\\.7\\.24",
            what: "SPF (RFC 7208) ended in permerror, or RFC 7372's 5.7.24 (SPF validation error) (check spf)",
            check: { _, _ in .spf }, permerror: true),
        // "Authentication" failures where SPF did not pass and DKIM is named too (this model has no
        // DKIM): Microsoft's 4.7.26, Gmail's 5.7.26, RFC 7372 x.7.26 (multiple authentication checks failed).
        Rule(
            pattern:
                #"SPF check did not pass|pass either SPF or DKIM|unauthenticated|SPF.{0,60}did\s+not\s+pass|^[45]\d\d [45]\.7\.26\b|authenticat.{0,40}(SPF|DKIM)"#,
            what:
                "SPF did not pass (and DKIM, which this model does not have): check spf-pass; a world without an SPF record fails it"
        ) { _, _ in .spfPass },
        Rule(
            pattern:
                #"SPF|Sender Policy Framework|^[45]\d\d [45]\.7\.23\b|not (?:allowed|authorized|permitted) to send"#,
            what:
                "SPF (RFC 7208) ended in fail, or RFC 7372's 5.7.23 (SPF validation failed): check spf; a world whose SPF record ends in -all fails it"
        ) { _, _ in .spf },
        Rule(pattern: #"HELO|EHLO"#, what: "a HELO check") { reply, _ in
            let text = reply.text.lowercased()
            if text.contains("fully") || text.contains("fqdn") || text.contains("qualified") { return .heloFQDN }
            if text.contains("invalid") || text.contains("syntax") { return .heloValid }
            if text.contains("match") { return .heloMatches }
            return .heloResolves
        },
        // Reverse DNS in all its wordings: Postfix, Exim's `verify = reverse_host_lookup` messages,
        // freenet's `inconsistent or no DNS PTR record`, GMX's `Bad DNS PTR resource record`, free.fr's
        // `reverse DNS entry does not resolve`, ImprovMX's `IP name lookup failed`, Gmail's IPv4 and IPv6
        // PTR texts, RFC 7372's x.7.25 (reverse DNS validation failed).
        Rule(
            pattern:
                #"\bPTRs?\b|reverse[ -]?DNS|rDNS|reverse (?:host|name|lookup|mapping|entry|resolution)|DNS reverse|name lookup failed|host ?name lookup|FCrDNS|forward[- ]confirmed|^[45]\d\d [45]\.7\.25\b"#,
            what:
                "a reverse DNS requirement (no PTR, or one that does not resolve back to the client): check fcrdns; a world without a PTR fails it"
        ) { _, _ in .fcrdns },
    ]

    /// The check that explains `reply`, or nil.
    static func match(_ reply: SMTPReply) -> (rule: Rule, check: Check, phrase: String)? {
        let subject = "\(reply.code) \(reply.enhanced.map { $0 + " " } ?? "")\(reply.text)"
        for rule in rules {
            guard
                let regex = try? NSRegularExpression(
                    pattern: rule.pattern, options: [.caseInsensitive, .anchorsMatchLines]),
                let found = regex.firstMatch(in: subject, range: NSRange(subject.startIndex..., in: subject)),
                let phraseRange = Range(found.range, in: subject)
            else { continue }
            var zone: String?
            if found.numberOfRanges > 1, let zoneRange = Range(found.range(at: 1), in: subject) {
                zone = DNSName.normalize(subject[zoneRange])
            }
            guard let check = rule.check(reply, zone) else { continue }
            return (rule, check, String(subject[phraseRange]))
        }
        return nil
    }

    public static func diagnose(_ evidence: Evidence, client: IPAddress, helo: String) -> Diagnosis {
        guard let reply = evidence.reply else {
            return Diagnosis(
                check: nil, policy: .preset(.open), explanation: "there is no reply to explain", dnsError: false,
                differences: [])
        }
        guard reply.code >= 400 else {
            return Diagnosis(
                check: nil, policy: .preset(.open),
                explanation: "the reply \(reply.code) is not a failure: the open preset accepts", dnsError: false,
                differences: [])
        }
        var differences: [String] = []
        var check: Check
        var what: String
        var phrase: String?
        var dnsError = false, permerror = false, standIn = false
        if let found = match(reply) {
            (check, what, phrase) = (found.check, found.rule.what, found.phrase)
            (dnsError, permerror) = (found.rule.dnsError, found.rule.permerror)
        } else {
            check = .dnsbl(zone: standInZone)
            what =
                "no check mxharness models (a reputation, content or front-end decision); a DNSBL listing on the stand-in zone \(standInZone) plays it, so the reply is reproduced but not its cause"
            standIn = true
        }
        // Where the receiver answers: the stage the input names (format 1.2 answers at HELO and
        // MAIL too), RCPT when it names none (Postfix's smtpd_delay_reject = yes).
        let rejectAt: RejectStage
        switch evidence.stage {
        case .greeting?: rejectAt = .greeting
        case .helo?: rejectAt = .helo
        case .mail?: rejectAt = .mail
        case .data?: rejectAt = .data
        case .rcpt?, .connect?, nil: rejectAt = .rcpt
        }
        if !rejectAt.canAnswer(check) {
            let needs =
                rejectAt == .greeting
                ? "the HELO or MAIL FROM, which the greeting comes before"
                : "the envelope sender, which HELO comes before"
            differences.append(
                "check \(check.name) needs \(needs); a stand-in DNSBL listing plays the reply at \(rejectAt.rawValue)")
            check = .dnsbl(zone: standInZone)
            standIn = true
            (dnsError, permerror) = (false, false)
        }
        let onFail: FailureMode = reply.isTransientFailure ? .defer : .reject
        let outcome: CheckOutcome = dnsError ? .temporary : permerror ? .permerror : .fail
        var choice = PolicyChoice.map(checks: [check], rejectAt: rejectAt, onFail: onFail)
        var builtin = choice.policy.reply(for: check, outcome: outcome, client: client, helo: helo)
        if let ours = builtin, !same(ours, reply) {
            if dnsError {
                // A DNS error's reply cannot be reworded (`reply:` replaces failures only): play the
                // words as a failure of the same check instead.
                differences.append(
                    "the receiver's words for the SPF DNS error differ from the built-in MX's; the scenario plays them as an SPF failure with the receiver's reply"
                )
                dnsError = false
            }
            let site = CustomReply(code: reply.code, enhanced: reply.enhanced, text: reply.text)
            choice = .map(checks: [check], rejectAt: rejectAt, onFail: onFail, reply: site)
            builtin = choice.policy.reply(
                for: check, outcome: dnsError ? .temporary : permerror ? .permerror : .fail, client: client, helo: helo)
        }
        // A preset that is exactly this policy reads better.
        if let preset = Preset.allCases.first(where: { $0.policy.equalsIgnoringPreset(choice.policy) }) {
            choice = .preset(preset)
        }
        let classWord = reply.isTransientFailure ? "a 4xx (defer)" : "a 5xx (reject)"
        return Diagnosis(
            check: check, policy: choice,
            explanation:
                "\(phrase.map { "\"\($0)\" is " } ?? "the reply names ")\(what); \(classWord) at \(rejectAt.rawValue) gives policy \(choice.yaml)",
            phrase: phrase, builtinReply: builtin, dnsError: dnsError, permerror: permerror, standIn: standIn,
            differences: differences)
    }

    /// The same reply as far as `expect` can tell: code, enhanced code and text.
    static func same(_ a: SMTPReply, _ b: SMTPReply) -> Bool {
        a.code == b.code && a.enhanced == b.enhanced && a.text == b.text
    }
}

extension ReceiverPolicy {
    /// The same checks, stage, failure mode and replies, whatever preset (if any) made them.
    func equalsIgnoringPreset(_ other: ReceiverPolicy) -> Bool {
        var mine = self, theirs = other
        mine.preset = nil
        theirs.preset = nil
        return mine == theirs
    }
}
