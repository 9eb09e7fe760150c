import DKIM
import DNSCore
import SMTPProtocol
import SPF

/// The client's PTR lookup: the names found, or the DNS error.
public struct PTRFinding: Sendable, Hashable, Codable {
    public var names: [String]
    /// `NXDOMAIN`, `NODATA`, `SERVFAIL`, `REFUSED`, `timed out` or the resolver's reason; nil when names were found.
    public var error: String?
    public var isTemporary: Bool

    public init(names: [String], error: String? = nil, isTemporary: Bool = false) {
        self.names = names
        self.error = error
        self.isTemporary = isTemporary
    }
}

/// Forward confirmation of the PTR names, in the client's own family.
public struct FCrDNSFinding: Sendable, Hashable, Codable {
    /// The PTR name whose A/AAAA records include the client address.
    public var confirmedName: String?
    /// Why no name confirmed (`no PTR`, `mail.sender.test AAAA: NXDOMAIN`, ...).
    public var reason: String?
    public var isTemporary: Bool

    public init(confirmedName: String? = nil, reason: String? = nil, isTemporary: Bool = false) {
        self.confirmedName = confirmedName
        self.reason = reason
        self.isTemporary = isTemporary
    }
}

/// One DNSBL lookup.
public struct DNSBLFinding: Sendable, Hashable, Codable {
    public var zone: String
    public var query: String
    /// The A records found (the client is listed when there are any).
    public var answers: [String]
    public var error: String?

    public var isListed: Bool { !answers.isEmpty }
}

/// One check as it ran.
public struct CheckRecord: Sendable, Hashable, Codable {
    public var check: String
    public var outcome: CheckOutcome
    /// What decided it, in words.
    public var detail: String
    /// The reply it produced when it did not pass.
    public var reply: SMTPReply?
}

/// Everything the policy engine found out about one session, for the MX's decision record.
public struct PolicyFindings: Sendable, Hashable, Codable {
    public var client: IPAddress
    public var ptr: PTRFinding?
    public var fcrdns: FCrDNSFinding?
    /// The checks that ran, in order (the last of them decided when it did not pass).
    public var checks: [CheckRecord]
    public var spf: SPFVerdict?
    public var dnsbl: [DNSBLFinding]
    /// Each DKIM-Signature's verification, when a check read the message (nil when none did).
    public var dkim: [DKIMVerification]?
    /// The DMARC evaluation, when the `dmarc` check ran.
    public var dmarc: DMARCEvaluation?
    /// The check whose reply was sent, if any.
    public var decidingCheck: String?
    public var decidingReply: SMTPReply?

    public init(client: IPAddress) {
        self.client = client
        self.checks = []
        self.dnsbl = []
    }

    /// A few lines for a human: `PTR 2001:db8:5::25: NXDOMAIN`, `FCrDNS: failed (no PTR)`,
    /// `SPF: pass (ip6:2001:db8:5::/64)`, then each check and the decision.
    public var summaryLines: [String] {
        var lines: [String] = []
        if let ptr {
            lines.append("PTR \(client): " + (ptr.error ?? ptr.names.joined(separator: ", ")))
        }
        if let fcrdns {
            if let name = fcrdns.confirmedName {
                lines.append("FCrDNS: confirmed (\(name))")
            } else {
                lines.append(
                    "FCrDNS: " + (fcrdns.isTemporary ? "DNS error" : "failed") + " (\(fcrdns.reason ?? "unknown"))")
            }
        }
        if let spf {
            var text = "SPF: \(spf.result)"
            if let matched = spf.matched { text += " (\(matched))" } else { text += " (\(spf.reason))" }
            if let record = spf.record { text += " record \"\(record)\" at \(spf.domain)" }
            lines.append(text)
        }
        for signature in dkim ?? [] {
            lines.append("DKIM: \(signature)")
        }
        if let dmarc {
            lines.append("DMARC: \(dmarc)")
        }
        for entry in dnsbl {
            lines.append(
                "DNSBL \(entry.zone): "
                    + (entry.isListed
                        ? "listed (\(entry.answers.joined(separator: ", ")))"
                        : entry.error.map { "error \($0), ignored" } ?? "not listed"))
        }
        for check in checks {
            lines.append("check \(check.check): \(check.outcome) — \(check.detail)")
        }
        if let decidingCheck, let decidingReply {
            lines.append("decision: \(decidingReply) (check \(decidingCheck))")
        }
        return lines
    }
}
