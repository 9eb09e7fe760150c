import DNSCore
import Policy
import SPF

/// What census had to assume for a client because its logs do not say it.
public enum Assumption: String, Sendable, Hashable, Codable, CaseIterable {
    /// No HELO was logged for it: it is taken to say its confirmed (or PTR) name, or its address literal.
    case helo = "helo-not-logged"
    /// Nothing said whether its HELO resolves: taken to resolve to its addresses.
    case heloResolves = "helo-resolution-assumed"
    /// No SPF result was logged: taken to pass.
    case spf = "spf-assumed-pass"
    /// No envelope sender was logged (no message): its HELO's domain is taken as the sender's.
    case sender = "sender-not-logged"

    public var text: String {
        switch self {
        case .helo: "no HELO logged: taken to be its confirmed (or PTR) name, or its address literal"
        case .heloResolves: "HELO resolution not in the log: taken to resolve to its addresses"
        case .spf: "no SPF result logged: taken to pass"
        case .sender: "no envelope sender logged: taken as postmaster@ its HELO's domain"
        }
    }
}

/// A client's facts from its logs alone: reverse DNS confirmed (a name logged), `unknown` (no PTR
/// or not confirmed, as far as the log can tell), a PTR that does not resolve back (smtpd's and
/// Exim's warnings), no PTR (a reverse-hostname reject or Exim's `no host name found`); the HELO as
/// logged; what reject and warn_if_reject lines said (HELO not found, DNSBL listings); SPF results a
/// policy service logged. What the logs do not say is assumed, and said (`Assumption`).
public enum LogFacts {
    public static func facts(for client: CensusClient) -> (facts: ClientFacts, assumptions: Set<Assumption>) {
        var assumptions = Set<Assumption>()
        let sideEvidence = client.addresses

        // The HELO.
        var helo = client.helo
        if helo == nil {
            assumptions.insert(.helo)
            let confirmed = sideEvidence.compactMap(\.confirmedName).first
            let ptr = sideEvidence.compactMap { $0.unconfirmedName?.name }.first
            if let name = confirmed ?? ptr {
                helo = name
            } else if let first = sideEvidence.first?.address {
                helo = first.family == .ipv4 ? "[\(first)]" : "[IPv6:\(first)]"
            }
        }
        let heloText = helo ?? "unknown"
        let heloNormal = LogText.normalizedHELO(heloText)
        let heloIsName = PolicySession.literalAddress(heloText) == nil && !heloText.hasPrefix("[")
        let heloLooksUp = heloIsName && PolicySession.isValidHELO(heloText) && PolicySession.isFullyQualified(heloText)
        let notFound = sideEvidence.contains { $0.helosNotFound.contains(heloNormal) }

        // The sender.
        var mailFrom = client.primarySender
        if mailFrom == nil {
            assumptions.insert(.sender)
            mailFrom = heloLooksUp ? "postmaster@\(heloNormal)" : "postmaster@sender.census.test"
        }
        let sender = mailFrom ?? ""
        let spfDomain = sender.isEmpty ? (heloIsName ? heloNormal : nil) : LogText.domain(of: sender)

        var heloFromReverse = false
        var sides: [ClientFacts.Side] = []
        for evidence in sideEvidence {
            let reverse = reverseFact(evidence)
            var heloAddress = ClientFacts.HELOAddress.none
            if heloLooksUp, !notFound {
                switch reverse {
                case .confirmed(let name) where DNSName.normalize(name) == heloNormal:
                    heloAddress = .matches
                    heloFromReverse = true
                case .unconfirmed(let name, let elsewhere) where DNSName.normalize(name) == heloNormal:
                    heloAddress = elsewhere ? .elsewhere : .none
                    heloFromReverse = true
                default:
                    heloAddress = .matches
                }
            }
            var spf = SPFResult.pass
            if let domain = spfDomain, let logged = evidence.spf[domain] {
                spf = logged
            } else {
                assumptions.insert(.spf)
            }
            sides.append(
                ClientFacts.Side(
                    address: evidence.address, reverse: reverse, heloAddress: heloAddress, spf: spf,
                    dnsbl: Array(evidence.dnsbl)))
        }
        if heloLooksUp, !notFound, !heloFromReverse { assumptions.insert(.heloResolves) }
        let found: ClientFacts.HELOFound = heloLooksUp && notFound ? .notFound : .found
        let facts = ClientFacts(
            sides: sides, helo: heloText, heloFound: heloLooksUp ? found : .notFound, mailFrom: sender)
        return (facts, assumptions)
    }

    /// The reverse DNS of one address as its lines tell it. A name logged in most sessions wins
    /// over `unknown` (DNS may have changed during the logs).
    static func reverseFact(_ evidence: AddressEvidence) -> ClientFacts.Reverse {
        let confirmedSessions = evidence.confirmedNames.values.reduce(0, +)
        if let name = evidence.confirmedName, confirmedSessions >= evidence.unknownSessions {
            return .confirmed(name)
        }
        if let (name, elsewhere) = evidence.unconfirmedName { return .unconfirmed(name, resolvesElsewhere: elsewhere) }
        if evidence.ptrMissing { return .missing }
        return .unknown
    }
}
