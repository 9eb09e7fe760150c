/// A DNS table in memory with the answering rules of the harness's unbound worlds: for unit tests
/// of code that takes a `DNSLookup` (SPF, policy checks, delivery model), and for a part that
/// answers from a case's world without asking it (the Postfix decision milter's DMARC record).
/// Integration tests use the real unbound world instead.
public struct InMemoryDNS: DNSLookup {
    /// `dns.faults` kinds, as the world's unbound answers them.
    public typealias Fault = DNSFaultKind

    public var records: [ResourceRecord]
    /// Faults for a name and every name below it.
    public var faults: [String: Fault]
    /// Every answer is also given at once through `heldAnswer` (the whole table is in memory), for
    /// a caller that cannot wait; off by default, as a resolver without a cache.
    public var holdsAnswers: Bool

    public init(records: [ResourceRecord] = [], faults: [String: Fault] = [:], holdsAnswers: Bool = false) {
        self.records = records
        self.faults = Dictionary(faults.map { (DNSName.normalize($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.holdsAnswers = holdsAnswers
    }

    /// A case's world: its `dns.records` and `dns.faults` (the first fault for a name counts).
    public init(records: [ResourceRecord], faults: [DNSFault], holdsAnswers: Bool = false) {
        self.init(
            records: records, faults: Dictionary(faults.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a }),
            holdsAnswers: holdsAnswers)
    }

    /// Builds a table from `(owner, data)` pairs.
    public init(_ entries: [(String, RecordData)], faults: [String: Fault] = [:]) {
        self.init(records: entries.map { ResourceRecord(owner: $0.0, data: $0.1) }, faults: faults)
    }

    public func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        try answer(name, type, depth: 0)
    }

    public func heldAnswer(_ name: String, _ type: RecordType) -> HeldAnswer? {
        guard holdsAnswers else { return nil }
        let expires = ContinuousClock.now + .seconds(3600)
        do throws(DNSLookupError) {
            return HeldAnswer(.success(try answer(name, type, depth: 0)), expires: expires)
        } catch {
            return HeldAnswer(.failure(error), expires: expires)
        }
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
