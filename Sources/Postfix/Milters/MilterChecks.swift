import DNSCore
import Policy

/// Which of a policy's checks the milters answer on Postfix and which Postfix's own restrictions
/// do. A policy with a message check (`dkim`, `dmarc`, `spf-or-dkim`) runs OpenDKIM, OpenDMARC and
/// the decision milter (`MilterDecision`); that milter then also answers the client-name checks
/// Postfix's restrictions cannot word the policy's way: `ptr` and `fcrdns` with a preset's own
/// reply, or any of them under `reject_at: data` (smtpd's restrictions never wait for the message).
public struct MilterChecks: Sendable, Hashable {
    public var policy: ReceiverPolicy

    /// Client-name checks the decision milter can answer from smtpd's macros.
    public static let connectionChecks: Set<Check> = [.ptr, .fcrdns]

    public init(policy: ReceiverPolicy) {
        self.policy = policy
    }

    /// The policy needs the milters.
    public var isNeeded: Bool { (policy.ipv4 + policy.ipv6).contains(where: \.needsMessage) }

    /// The checks of `family` that are not message checks and that the milter answers.
    public func connectionChecks(_ family: AddressFamily) -> [Check] {
        guard isNeeded else { return [] }
        let checks = policy.checks(for: family).filter { !$0.needsMessage }
        let worded = checks.contains { policy.customReplies[family]?[$0] != nil }
        return policy.rejectAt == .data || worded ? checks : []
    }

    /// What the milter answers at each RCPT.
    public func atRcpt(_ family: AddressFamily) -> [Check] {
        policy.rejectAt == .data ? [] : connectionChecks(family)
    }

    /// What the milter answers after the final dot, in the policy's order (the client checks
    /// first, as the built-in MX runs them before the message checks).
    public func atEndOfMessage(_ family: AddressFamily) -> [Check] {
        (policy.rejectAt == .data ? connectionChecks(family) : []) + policy.checks(for: family).filter(\.needsMessage)
    }

    /// The checks of `family` left to Postfix's restrictions.
    public func restrictionChecks(_ family: AddressFamily) -> [Check] {
        let played = Set(connectionChecks(family))
        return policy.checks(for: family).filter { !$0.needsMessage && !played.contains($0) }
    }

    /// Why the milters cannot play this policy, or nil.
    public var unsupportedReason: String? {
        guard isNeeded else { return nil }
        for family in AddressFamily.allCases {
            for check in connectionChecks(family) where !Self.connectionChecks.contains(check) {
                let why = policy.rejectAt == .data ? "reject_at: data" : "a reply of its own on another check"
                return
                    "check \(check.name) with \(why) has no Postfix equivalent (the decision milter answers only ptr and fcrdns, from smtpd's {client_ptr} and {client_resolve}): builtin only"
            }
        }
        if policy.siteReply != nil {
            return
                "reply: with a DKIM/DMARC check is not translated for Postfix (the site reply would apply to checks Postfix answers itself): builtin only"
        }
        return nil
    }

    /// Custom replies on checks Postfix's restrictions answer (the milter words its own exactly).
    public var restrictionCustomReplies: Bool {
        AddressFamily.allCases.contains { family in
            let played = Set(connectionChecks(family)).union(policy.checks(for: family).filter(\.needsMessage))
            return (policy.customReplies[family] ?? [:]).keys.contains { !played.contains($0) }
                || (policy.unsignedReplies[family] ?? [:]).keys.contains { !played.contains($0) }
        }
    }
}
