/// What a query for a faulty name gets instead of data (the scenario format's `dns.faults`).
public enum DNSFaultKind: String, Sendable, Hashable, Codable, CaseIterable {
    case nxdomain
    case servfail
    case refused
    /// No answer at all.
    case timeout
}

/// A fault for a name and every name below it.
public struct DNSFault: Sendable, Hashable, Codable {
    public var name: String
    public var kind: DNSFaultKind

    public init(name: String, kind: DNSFaultKind) {
        self.name = DNSName.normalize(name)
        self.kind = kind
    }
}

/// `dns.reverse`: whether PTR records are added for addresses that have none.
public enum ReverseMode: String, Sendable, Hashable, Codable {
    case none
    case auto
}

/// `dns.dnssec`: whether the world's zones are signed.
public enum DNSSECMode: String, Sendable, Hashable, Codable, CaseIterable {
    case unsigned
    /// Every zone signed, under a root key that validating resolvers trust.
    case signed
}

/// `dns.zones[].state`: what a signed world serves for one zone (the scenario format's table).
public enum ZoneState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Signed, with a DS in the parent.
    case secure
    /// Signed, with no DS in the parent: an insecure delegation.
    case insecure
    /// Signatures that do not verify.
    case bogusSignature = "bogus-signature"
    /// Signatures whose validity ended before now.
    case expired
    /// Signatures whose validity starts after now.
    case notYetValid = "not-yet-valid"
    /// Answers without RRSIG records.
    case missingSignatures = "missing-signatures"
    /// A DS in the parent that matches no key of the zone.
    case wrongDS = "wrong-ds"

    public var description: String { rawValue }
}

/// One entry of `dns.zones`: a zone cut and its state.
public struct ZoneDeclaration: Sendable, Hashable {
    /// The zone's apex, normalized (`.` for the root).
    public var name: String
    public var state: ZoneState

    public init(name: String, state: ZoneState = .secure) {
        self.name = DNSName.normalize(name)
        self.state = state
    }
}

/// `receiver.resolver` and `sender.resolver`: whether a part's lookups go through a validating
/// resolver.
public enum ResolverValidation: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case nonValidating = "non-validating"
    case validating

    public var description: String { rawValue }
}

/// Everything that exists in one scenario's DNS.
public struct WorldSpec: Sendable, Hashable {
    public var records: [ResourceRecord]
    public var faults: [DNSFault]
    public var reverse: ReverseMode
    /// `dns.dnssec`.
    public var dnssec: DNSSECMode
    /// `dns.zones`, in the order written.
    public var zones: [ZoneDeclaration]

    public init(
        records: [ResourceRecord] = [], faults: [DNSFault] = [], reverse: ReverseMode = .none,
        dnssec: DNSSECMode = .unsigned, zones: [ZoneDeclaration] = []
    ) {
        self.records = records
        self.faults = faults
        self.reverse = reverse
        self.dnssec = dnssec
        self.zones = zones
    }

    public var isSigned: Bool { dnssec == .signed }

    /// The records served: `records`, plus with `reverse: auto` a PTR for every A/AAAA address that has
    /// none (the first owner that names the address wins), deduplicated in order.
    public var effectiveRecords: [ResourceRecord] {
        var out: [ResourceRecord] = []
        var seen = Set<ResourceRecord>()
        for record in records where seen.insert(record).inserted {
            out.append(record)
        }
        guard reverse == .auto else { return out }
        var reverseOwners = Set(out.filter { $0.type == .ptr }.map(\.owner))
        for record in records {
            guard let address = record.data.address else { continue }
            let owner = address.reverseName
            if reverseOwners.insert(owner).inserted {
                out.append(ResourceRecord(owner: owner, ttl: record.ttl, data: .ptr(record.owner)))
            }
        }
        return out
    }
}
