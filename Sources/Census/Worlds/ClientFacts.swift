import DNSCore
import Policy
import SPF

/// What decides a client's fate under any policy the harness models: per address, its reverse
/// DNS, what its HELO name says about it, its SPF result and its DNSBL listings; and the HELO and
/// envelope sender it uses. Read from the logs (with what they do not say assumed) or derived from
/// DNS recorded live. The client's world is built from these facts alone (`CensusWorld`), so two
/// clients whose facts are equal up to their names and addresses (`canonical`) meet every policy
/// the same way and share one run.
public struct ClientFacts: Sendable, Hashable {
    public enum Reverse: Sendable, Hashable {
        /// A PTR name whose addresses include the client's.
        case confirmed(String)
        /// A PTR name that does not resolve back; `resolvesElsewhere`: it has addresses of the
        /// client's family, none of them the client's.
        case unconfirmed(String, resolvesElsewhere: Bool)
        /// No PTR record.
        case missing
        /// The log says `unknown`: no PTR, or one not confirmed, the log cannot tell which. The
        /// world has none.
        case unknown
        /// The PTR lookup fails (SERVFAIL, timeout).
        case temporary
    }

    /// What the HELO name's addresses of one family are.
    public enum HELOAddress: Sendable, Hashable {
        case matches, elsewhere, none
    }

    /// Whether the HELO name resolves at all (A, AAAA or MX: Postfix's reject_unknown_helo_hostname).
    public enum HELOFound: Sendable, Hashable {
        case found, notFound, temporary
    }

    /// One address of the client.
    public struct Side: Sendable, Hashable {
        public var address: IPAddress
        public var reverse: Reverse
        public var heloAddress: HELOAddress
        public var spf: SPFResult
        public var dnsbl: [String]

        public init(
            address: IPAddress, reverse: Reverse, heloAddress: HELOAddress, spf: SPFResult, dnsbl: [String] = []
        ) {
            self.address = address
            self.reverse = reverse
            self.heloAddress = heloAddress
            self.spf = spf
            self.dnsbl = dnsbl.sorted()
        }
    }

    /// IPv4 first.
    public var sides: [Side]
    public var helo: String
    public var heloFound: HELOFound
    /// `""` for the null sender.
    public var mailFrom: String

    public init(sides: [Side], helo: String, heloFound: HELOFound, mailFrom: String) {
        self.sides = sides.sorted { $0.address.family == .ipv4 && $1.address.family == .ipv6 }
        self.helo = helo
        self.heloFound = heloFound
        self.mailFrom = mailFrom
    }

    public func side(_ family: AddressFamily) -> Side? {
        sides.first { $0.address.family == family }
    }

    /// The domain SPF checks: the sender's, or the HELO for the null sender (RFC 7208 2.4).
    public var spfDomain: String? {
        if !mailFrom.isEmpty { return LogText.domain(of: mailFrom) }
        return heloIsName ? DNSName.normalize(helo) : nil
    }

    /// The HELO is a host name (not an address literal), so it is looked up.
    public var heloIsName: Bool {
        PolicySession.literalAddress(helo) == nil && !helo.hasPrefix("[")
    }

    // MARK: Canonical form

    /// The same facts with documentation addresses and `.test` names in place of the client's:
    /// equal for two clients exactly when their worlds differ only in names and addresses. Names
    /// that are equal stay equal (a HELO that is the PTR name), and a HELO keeps its form (a
    /// fully qualified name, one label, not a host name, the literal of the client's address).
    public var canonical: ClientFacts {
        var names: [String: String] = [:]
        func rename(_ name: String) -> String {
            let key = DNSName.normalize(name)
            if let known = names[key] { return known }
            let renamed = "n\(names.count + 1).client.test"
            names[key] = renamed
            return renamed
        }
        var addressMap: [IPAddress: IPAddress] = [:]
        let sides = self.sides.map { side -> Side in
            var side = side
            let canonical = side.address.family == .ipv4 ? CensusWorld.canonicalIPv4 : CensusWorld.canonicalIPv6
            addressMap[side.address] = canonical
            side.address = canonical
            switch side.reverse {
            case .confirmed(let name): side.reverse = .confirmed(rename(name))
            case .unconfirmed(let name, let elsewhere):
                side.reverse = .unconfirmed(rename(name), resolvesElsewhere: elsewhere)
            case .missing, .unknown, .temporary: break
            }
            return side
        }
        var helo = self.helo
        if let literal = PolicySession.literalAddress(helo) {
            let target =
                addressMap[literal]
                ?? (literal.family == .ipv4 ? IPAddress("198.51.100.99")! : IPAddress("2001:db8:99::99")!)
            helo = target.family == .ipv4 ? "[\(target)]" : "[IPv6:\(target)]"
        } else if !PolicySession.isValidHELO(helo) {
            helo = "-invalid-helo"
        } else if !PolicySession.isFullyQualified(helo) {
            helo = "unqualified"
        } else {
            helo = rename(helo)
        }
        var mailFrom = ""
        if !self.mailFrom.isEmpty {
            mailFrom = "sender@" + (LogText.domain(of: self.mailFrom).map(rename) ?? rename("unknown-domain"))
        }
        return ClientFacts(sides: sides, helo: helo, heloFound: heloFound, mailFrom: mailFrom)
    }

    /// A few words per address for people (a case's name and description):
    /// `v4 fcrdns ok, helo ok, spf pass; v6 no PTR, helo none, spf fail`.
    public var label: String {
        var parts: [String] = []
        for side in sides {
            let family = side.address.family == .ipv4 ? "v4" : "v6"
            var words: [String] = []
            switch side.reverse {
            case .confirmed: words.append("PTR confirmed")
            case .unconfirmed(_, let elsewhere):
                words.append(elsewhere ? "PTR resolves elsewhere" : "PTR not confirmed")
            case .missing: words.append("no PTR")
            case .unknown: words.append("unknown PTR")
            case .temporary: words.append("PTR lookup fails")
            }
            words.append("SPF \(side.spf.rawValue)")
            if heloIsName {
                switch side.heloAddress {
                case .matches: words.append("HELO matches")
                case .elsewhere: words.append("HELO elsewhere")
                case .none: words.append("HELO no address")
                }
            }
            if !side.dnsbl.isEmpty { words.append("listed in \(side.dnsbl.joined(separator: ", "))") }
            parts.append("\(family) " + words.joined(separator: ", "))
        }
        var helo = ""
        if PolicySession.literalAddress(self.helo) != nil {
            helo = "HELO literal"
        } else if !PolicySession.isValidHELO(self.helo) {
            helo = "HELO invalid"
        } else if !PolicySession.isFullyQualified(self.helo) {
            helo = "HELO unqualified"
        } else {
            switch heloFound {
            case .found: helo = "HELO resolves"
            case .notFound: helo = "HELO not found"
            case .temporary: helo = "HELO lookup fails"
            }
        }
        return parts.joined(separator: "; ") + "; " + helo + (mailFrom.isEmpty ? "; null sender" : "")
    }
}
