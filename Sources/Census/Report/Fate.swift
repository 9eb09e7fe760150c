import DNSCore
import Matrix
import Policy
import SPF

/// How a client's mail ends under one policy, in the census's four words.
public enum Fate: String, Sendable, Hashable, Codable, CaseIterable {
    /// Delivered over the family it tried first.
    case delivered
    /// Delivered only after the other family was refused (4xx, or no connection) and it fell back.
    case fellBack = "fell_back"
    case deferred
    case bounced
    /// The harness could not run it (or the target skipped it).
    case error

    public init(_ outcome: CellOutcome) {
        guard outcome.status == .ran, let delivery = outcome.outcome else {
            self = .error
            return
        }
        switch delivery {
        case .delivered:
            let first = outcome.attempts.first?.family
            self = first != nil && first != outcome.family ? .fellBack : .delivered
        case .deferred: self = .deferred
        case .bounced: self = .bounced
        }
    }

    public var label: String {
        switch self {
        case .delivered: "delivered"
        case .fellBack: "fell back"
        case .deferred: "deferred"
        case .bounced: "bounced"
        case .error: "could not run"
        }
    }
}

/// Why a client's fate under a policy differs from the first column's: the first check of the
/// policy, for the family the client was refused over, that the client's facts fail, in words a
/// postmaster would use (`no PTR over IPv6`, `SPF without ip6`). The policy engine takes the checks
/// in the same order and answers the first that fails.
public enum ChangeReason {
    public static func explain(_ facts: ClientFacts, policy: ReceiverPolicy?, family: AddressFamily?, reply: String?)
        -> String
    {
        guard let policy, let family, let side = facts.side(family) else {
            return "other: " + (reply ?? "no reply")
        }
        let other = facts.sides.first { $0.address.family != family }
        let name = family == .ipv4 ? "IPv4" : "IPv6"
        let otherName = family == .ipv4 ? "ip4" : "ip6"
        let checks =
            policy.checks(for: family).filter { !$0.needsMessage } + policy.checks(for: family).filter(\.needsMessage)
        for check in checks {
            switch check {
            case .ptr:
                switch side.reverse {
                case .missing: return "no PTR over \(name)"
                case .unknown: return "no PTR over \(name) (the log says unknown)"
                case .temporary: return "PTR lookup failing over \(name)"
                case .confirmed, .unconfirmed: continue
                }
            case .fcrdns:
                switch side.reverse {
                case .confirmed: continue
                case .missing: return "no PTR over \(name)"
                case .unknown: return "PTR missing or not confirmed over \(name) (the log says unknown)"
                case .unconfirmed: return "PTR not confirmed over \(name)"
                case .temporary: return "PTR lookup failing over \(name)"
                }
            case .heloValid:
                if !PolicySession.isValidHELO(facts.helo) { return "HELO not a valid host name" }
            case .heloFQDN:
                if !PolicySession.isFullyQualified(facts.helo) { return "HELO not fully qualified" }
            case .heloResolves:
                guard facts.heloIsName else { continue }
                switch facts.heloFound {
                case .found: continue
                case .notFound: return "HELO not resolving"
                case .temporary: return "HELO lookup failing"
                }
            case .heloMatches:
                if facts.heloIsName, side.heloAddress != .matches { return "HELO not matching the \(name) address" }
                if let literal = PolicySession.literalAddress(facts.helo), literal != side.address {
                    return "HELO literal not the \(name) address"
                }
            case .spf:
                switch side.spf {
                case .fail: return other?.spf == .pass ? "SPF without \(otherName)" : "SPF fail"
                case .permerror: return "SPF permerror"
                case .temperror: return "SPF lookup failing"
                default: continue
                }
            case .spfPass, .spfOrDKIM:
                if side.spf == .pass { continue }
                if other?.spf == .pass { return "SPF without \(otherName)" }
                return side.spf == .none ? "no SPF record" : "SPF \(side.spf.rawValue)"
            case .dkim:
                return "no DKIM signature (census sends unsigned mail)"
            case .dmarc:
                return "DMARC (census sends unsigned mail)"
            case .dnsbl(let zone):
                if side.dnsbl.contains(DNSName.normalize(zone)) { return "listed in \(zone)" }
            }
        }
        return "other: " + (reply ?? "no reply")
    }
}
