import DNSCore
import Foundation
import Policy
import SMTPProtocol

/// A receiver policy as a scenario writes it: a preset name, or the map form.
public enum PolicyChoice: Sendable, Hashable, CustomStringConvertible {
    case preset(Preset)
    case map(checks: [Check], rejectAt: RejectStage, onFail: FailureMode)

    public var policy: ReceiverPolicy {
        switch self {
        case .preset(let preset): return preset.policy
        case .map(let checks, let rejectAt, let onFail): return ReceiverPolicy(ipv4: checks, ipv6: checks, rejectAt: rejectAt, onFail: onFail)
        }
    }

    /// The value of `receiver.policy` in YAML (flow form for a map).
    public var yaml: String {
        switch self {
        case .preset(let preset): return preset.rawValue
        case .map(let checks, let rejectAt, let onFail):
            return "{checks: [\(checks.map(\.name).joined(separator: ", "))], reject_at: \(rejectAt.rawValue), on_fail: \(onFail.rawValue)}"
        }
    }

    public var description: String { yaml }
}

/// Which receiver policy explains a reply, and what the built-in MX would answer under it.
public struct Diagnosis: Sendable, Hashable {
    /// The failed check the reply points to; nil when the reply is not one the harness models.
    public var check: Check?
    public var policy: PolicyChoice
    /// Why: the words matched and what they mean.
    public var explanation: String
    /// The words of the reply that identified the check (what `expect.text` can rely on).
    public var phrase: String?
    /// What the built-in MX answers when `check` fails for this client under `policy`.
    public var builtinReply: SMTPReply?
    /// True when the failure comes from a DNS error (SPF temperror), not from missing or wrong data.
    public var dnsError: Bool
    /// Where the built-in MX would differ from the observation (code, enhanced code, stage).
    public var differences: [String]

    public var recognized: Bool { check != nil }
}

/// Maps a reply to the policy of the scenario format (its Policies table and presets) whose failure
/// answers it, from Postfix's texts (smtpd_check.c) and the provider presets' own texts.
public enum ReplyDiagnosis {
    struct Rule: Sendable {
        /// A case-insensitive regular expression; its first group, when there is one, is a DNSBL zone.
        var pattern: String
        var what: String
        var decide: @Sendable (_ reply: SMTPReply, _ zone: String?) -> (Check, PolicyChoice, dnsError: Bool)?
    }

    private static func byClass(_ reply: SMTPReply, _ check: Check, defer deferred: PolicyChoice? = nil, reject rejected: PolicyChoice? = nil) -> PolicyChoice {
        if reply.isTransientFailure { return deferred ?? .map(checks: [check], rejectAt: .rcpt, onFail: .defer) }
        return rejected ?? .map(checks: [check], rejectAt: .rcpt, onFail: .reject)
    }

    static let rules: [Rule] = [
        Rule(pattern: "cannot find your reverse hostname",
             what: "Postfix's reject_unknown_reverse_client_hostname: the client address has no PTR (check ptr)") { reply, _ in
            (.ptr, byClass(reply, .ptr, defer: .preset(.reverse)), false)
        },
        Rule(pattern: "cannot find your hostname",
             what: "Postfix's reject_unknown_client_hostname: no PTR, or its name does not resolve back to the client (check fcrdns)") { reply, _ in
            (.fcrdns, byClass(reply, .fcrdns, defer: .preset(.fcrdns), reject: .preset(.fcrdnsStrict)), false)
        },
        Rule(pattern: #"reverse DNS lookup failed|no reverse DNS|reverse host lookup failed"#,
             what: "a reverse DNS requirement (Exim's verify = reverse_host_lookup forward-confirms the PTR name; check fcrdns)") { reply, _ in
            (.fcrdns, byClass(reply, .fcrdns, defer: .preset(.fcrdns), reject: .preset(.fcrdnsStrict)), false)
        },
        Rule(pattern: "Helo command rejected: Host not found",
             what: "Postfix's reject_unknown_helo_hostname: the HELO name has no A, AAAA or MX (check helo-resolves)") { reply, _ in
            (.heloResolves, byClass(reply, .heloResolves, reject: .preset(.heloStrict)), false)
        },
        Rule(pattern: "Helo command rejected: need fully-qualified hostname",
             what: "Postfix's reject_non_fqdn_helo_hostname (check helo-fqdn)") { reply, _ in
            (.heloFQDN, byClass(reply, .heloFQDN, reject: .preset(.heloStrict)), false)
        },
        Rule(pattern: "Helo command rejected: Invalid name",
             what: "Postfix's reject_invalid_helo_hostname (check helo-valid)") { reply, _ in
            (.heloValid, byClass(reply, .heloValid, reject: .preset(.heloStrict)), false)
        },
        Rule(pattern: "Helo command rejected: does not match calling host",
             what: "the HELO name does not resolve to the client address (check helo-matches)") { reply, _ in
            (.heloMatches, byClass(reply, .heloMatches), false)
        },
        Rule(pattern: #"blocked using ([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)"#,
             what: "Postfix's reject_rbl_client: the client is listed in a DNSBL (check dnsbl:ZONE)") { reply, zone in
            guard let zone, let check = Check(name: "dnsbl:" + zone) else { return nil }
            return (check, byClass(reply, check), false)
        },
        Rule(pattern: #"is in a black list at ([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)"#,
             what: "Exim's dnslists: the client is listed in a DNSBL (check dnsbl:ZONE)") { reply, zone in
            guard let zone, let check = Check(name: "dnsbl:" + zone) else { return nil }
            return (check, byClass(reply, check), false)
        },
        Rule(pattern: "SPF temporary error",
             what: "SPF (RFC 7208) ended in temperror: a DNS lookup of the SPF walk failed (check spf)") { _, _ in
            (.spf, .map(checks: [.spf], rejectAt: .rcpt, onFail: .reject), true)
        },
        Rule(pattern: "SPF permanent error",
             what: "SPF (RFC 7208) ended in permerror: a broken record, two records, or too many lookups (check spf)") { reply, _ in
            (.spf, byClass(reply, .spf), false)
        },
        Rule(pattern: "SPF check did not pass",
             what: "SPF (RFC 7208) did not end in pass (check spf-pass)") { reply, _ in
            (.spfPass, byClass(reply, .spfPass), false)
        },
        Rule(pattern: #"SPF fail|SPF check failed|is not allowed to send mail from"#,
             what: "SPF (RFC 7208) ended in fail: the record does not list the client (check spf)") { reply, _ in
            (.spf, byClass(reply, .spf), false)
        },
        Rule(pattern: "does not have a PTR record setup",
             what: "the gmail-like preset's IPv4 text: no forward-confirmed PTR (check fcrdns)") { _, _ in
            (.fcrdns, .preset(.gmailLike), false)
        },
        Rule(pattern: "does not meet IPv6 sending guidelines",
             what: "the gmail-like preset's IPv6 text: no forward-confirmed PTR, or SPF did not pass (the same text for both; fcrdns is checked first)") { _, _ in
            (.fcrdns, .preset(.gmailLike), false)
        },
        Rule(pattern: "must have reverse DNS record",
             what: "the microsoft-like preset's IPv6 text: no PTR (check ptr)") { _, _ in
            (.ptr, .preset(.microsoftLike), false)
        },
        Rule(pattern: "must pass either SPF or DKIM validation",
             what: "the microsoft-like preset's IPv6 text: neither SPF nor an aligned DKIM signature passed (check spf-or-dkim)") { _, _ in
            (.spfOrDKIM, .preset(.microsoftLike), false)
        },
        Rule(pattern: "This mail is unauthenticated",
             what: "the gmail-like preset's IPv6 text for signed mail: neither SPF nor an aligned DKIM signature passed (check spf-or-dkim)") { _, _ in
            (.spfOrDKIM, .preset(.gmailLike), false)
        },
    ]

    public static func diagnose(_ evidence: Evidence, client: IPAddress, helo: String) -> Diagnosis {
        guard let reply = evidence.reply else {
            return Diagnosis(check: nil, policy: .preset(.open), explanation: "there is no reply to explain", dnsError: false, differences: [])
        }
        guard reply.code >= 400 else {
            return Diagnosis(check: nil, policy: .preset(.open), explanation: "the reply \(reply.code) is not a failure: the open preset accepts", dnsError: false, differences: [])
        }
        for rule in rules {
            guard let regex = try? NSRegularExpression(pattern: rule.pattern, options: [.caseInsensitive]),
                  let match = regex.firstMatch(in: reply.text, range: NSRange(reply.text.startIndex..., in: reply.text)),
                  let phraseRange = Range(match.range, in: reply.text)
            else { continue }
            var zone: String?
            if match.numberOfRanges > 1, let zoneRange = Range(match.range(at: 1), in: reply.text) {
                zone = DNSName.normalize(reply.text[zoneRange])
            }
            guard let decided = rule.decide(reply, zone) else { continue }
            let (check, dnsError) = (decided.0, decided.dnsError)
            var choice = decided.1
            var differences: [String] = []
            // The built-in MX answers policy failures at RCPT, or after the final dot with reject_at: data
            // (checks that read the message, such as spf-or-dkim, always after the final dot).
            if evidence.stage == .data, choice.policy.rejectAt != .data, !check.needsMessage {
                let policy = choice.policy
                choice = .map(checks: policy.checks(for: client.family), rejectAt: .data, onFail: policy.onFail)
            }
            if let stage = evidence.stage, ![.rcpt, .data].contains(stage) {
                differences.append("the reply came at \(stage); the built-in MX answers policy failures at rcpt (Postfix with smtpd_delay_reject = yes) or data, so a replay on it differs in stage")
            }
            let policy = choice.policy
            if !policy.checks(for: client.family).contains(check) {
                differences.append("policy \(choice.yaml) does not check \(check) for \(client.family) clients")
            }
            let outcome: CheckOutcome = dnsError ? .temporary : (reply.text.range(of: "SPF permanent error", options: .caseInsensitive) != nil ? .permerror : .fail)
            let builtin = policy.reply(for: check, outcome: outcome, client: client, helo: helo)
            if let builtin {
                if builtin.code != reply.code {
                    differences.append("the built-in MX answers \(builtin.code) under \(choice.yaml) where the receiver said \(reply.code)")
                }
                if let enhanced = reply.enhanced, let ours = builtin.enhanced, enhanced != ours {
                    differences.append("the built-in MX's enhanced code is \(ours) where the receiver said \(enhanced)")
                }
            }
            let phrase = String(reply.text[phraseRange])
            let classWord = reply.isTransientFailure ? "a 4xx (defer)" : "a 5xx (reject)"
            return Diagnosis(
                check: check, policy: choice,
                explanation: "\"\(phrase)\" is \(rule.what); \(classWord) at \(evidence.stage?.rawValue ?? "rcpt") gives policy \(choice.yaml)",
                phrase: phrase, builtinReply: builtin, dnsError: dnsError, differences: differences)
        }
        return Diagnosis(
            check: nil, policy: .preset(.open),
            explanation: "the reply text \"\(reply.text)\" matches none of the checks mxharness models (ptr, fcrdns, helo-*, spf, spf-pass, dnsbl, the provider presets)",
            dnsError: false, differences: ["receiver.policy is left open: the built-in MX will accept where the receiver said \(reply.code)"])
    }
}
