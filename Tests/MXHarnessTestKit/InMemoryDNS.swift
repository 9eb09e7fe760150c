import DNSCore

/// A DNS table in memory with the answering rules of the harness's unbound worlds, for unit tests
/// of code that takes a `DNSLookup` (SPF, policy checks, delivery model). Integration tests use
/// the real unbound world instead.
public struct InMemoryDNS: DNSLookup {
    public enum Fault: Sendable, Hashable {
        case nxdomain, servfail, refused, timeout
    }

    public var records: [ResourceRecord]
    /// Faults for a name and every name below it.
    public var faults: [String: Fault]

    public init(records: [ResourceRecord] = [], faults: [String: Fault] = [:]) {
        self.records = records
        self.faults = Dictionary(faults.map { (DNSName.normalize($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Builds a table from `(owner, data)` pairs.
    public init(_ entries: [(String, RecordData)], faults: [String: Fault] = [:]) {
        self.init(records: entries.map { ResourceRecord(owner: $0.0, data: $0.1) }, faults: faults)
    }

    public func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        try answer(name, type, depth: 0)
    }

    public func answer(_ name: String, _ type: RecordType, depth: Int) throws(DNSLookupError) -> [RecordData] {
        let name = DNSName.normalize(name)
        if let fault = fault(for: name) {
            switch fault {
            case .nxdomain: throw .nxdomain(name: name)
            case .servfail: throw .servfail(name: name, type: type)
            case .refused: throw .refused(name: name, type: type)
            case .timeout: throw .timeout(name: name, type: type)
            }
        }
        let atName = records.filter { $0.owner == name }
        let matching = atName.filter { $0.type == type }.map(\.data)
        if !matching.isEmpty { return matching }
        if type != .cname, let cname = atName.first(where: { $0.type == .cname }), case .cname(let target) = cname.data
        {
            guard depth < 8 else { throw .servfail(name: name, type: type) }
            return try answer(target, type, depth: depth + 1)
        }
        // A name exists when it or a name below it owns a record (RFC 8020: empty non-terminals exist).
        let exists = records.contains { DNSName.isSubdomain($0.owner, of: name) }
        if exists { throw .nodata(name: name, type: type) }
        throw .nxdomain(name: name)
    }

    private func fault(for name: String) -> Fault? {
        var candidate = name
        while true {
            if let fault = faults[candidate] { return fault }
            guard let dot = candidate.firstIndex(of: ".") else { return nil }
            candidate = String(candidate[candidate.index(after: dot)...])
        }
    }
}
