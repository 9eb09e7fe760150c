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

/// Everything that exists in one scenario's DNS.
public struct WorldSpec: Sendable, Hashable {
    public var records: [ResourceRecord]
    public var faults: [DNSFault]
    public var reverse: ReverseMode

    public init(records: [ResourceRecord] = [], faults: [DNSFault] = [], reverse: ReverseMode = .none) {
        self.records = records
        self.faults = faults
        self.reverse = reverse
    }

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
