import DNSCore

/// A `DNSLookup` over a `ConformanceZone` in memory. Unlike `InMemoryDNS`, whose faults cover a
/// name's whole subtree, it times out exactly the zone's `TIMEOUT` names (per `timesOut`).
public struct ConformanceDNS: DNSLookup {
    public let zone: ConformanceZone
    private let byName: [String: [RecordData]]
    /// Every owner and every name above one, so empty non-terminals answer NODATA, not NXDOMAIN.
    private let existing: Set<String>

    public init(zone: ConformanceZone) {
        self.zone = zone
        var byName: [String: [RecordData]] = [:]
        var existing: Set<String> = zone.timeouts
        for record in zone.records {
            byName[record.owner, default: []].append(record.data)
            var name = Substring(record.owner)
            while true {
                existing.insert(String(name))
                guard let dot = name.firstIndex(of: ".") else { break }
                name = name[name.index(after: dot)...]
            }
        }
        self.byName = byName
        self.existing = existing
    }

    public func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        var current = DNSName.normalize(name)
        var seen: Set<String> = []
        while true {
            let here = byName[current] ?? []
            let matching = here.filter { $0.type == type }
            if !matching.isEmpty { return matching }
            if zone.timesOut(current, type) { throw .timeout(name: current, type: type) }
            if type != .cname,
                let alias = here.lazy.compactMap({ data -> String? in
                    if case .cname(let target) = data { return target }
                    return nil
                }).first
            {
                // A CNAME loop is answered SERVFAIL, as a recursive resolver does.
                guard seen.insert(current).inserted, seen.count <= 16 else {
                    throw .servfail(name: current, type: type)
                }
                current = alias
                continue
            }
            if existing.contains(current) { throw .nodata(name: current, type: type) }
            throw .nxdomain(name: current)
        }
    }
}
