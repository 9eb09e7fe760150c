import DNSCore

/// Where a signed world is cut into zones, and which zone serves each record (scenario format
/// 1.2, `dns.dnssec: signed`): the root, a zone for each top-level label, each zone `dns.zones`
/// lists and each owner of an SOA record; every other name belongs to the nearest enclosing
/// zone. An owner of an NS record is a zone too (docs/format-extensions.md): NS records at any
/// other name would be a delegation to servers that do not exist.
///
/// Records at or below an `nxdomain` fault are left out, and so are the zones there: the fault
/// is then an authenticated NXDOMAIN from the zone above. The other faults keep the zones'
/// data: unbound answers their names with the fault before it reaches a zone, and with the names
/// in the NSEC chain a validator cannot prove them absent from what it has seen (RFC 8198
/// aggressive use of NSEC would otherwise answer NXDOMAIN instead of the fault).
public struct ZoneLayout: Sendable {
    public struct Zone: Sendable {
        /// The apex, normalized (`.` for the root).
        public var name: String
        public var state: ZoneState
        /// The zone directly above, nil for the root.
        public var parent: String?
        /// The world's records this zone serves, in the order written.
        public var records: [ResourceRecord]
    }

    /// Root first, then in canonical order (RFC 4034 6.1).
    public var zones: [Zone]

    public init(_ spec: WorldSpec) {
        let removed = spec.faults.filter { $0.kind == .nxdomain }.map(\.name)
        let served = spec.effectiveRecords.filter { record in
            !removed.contains { DNSName.isSubdomain(record.owner, of: $0) }
        }
        let states = Dictionary(spec.zones.map { ($0.name, $0.state) }, uniquingKeysWith: { _, last in last })
        var apexes: Set<String> = ["."]
        for record in served {
            apexes.insert(Self.topLevel(record.owner))
            if record.type == .soa || record.type == .ns { apexes.insert(record.owner) }
        }
        for zone in spec.zones {
            apexes.insert(zone.name)
            apexes.insert(Self.topLevel(zone.name))
        }
        apexes = apexes.filter { apex in
            apex == "." || !removed.contains { DNSName.isSubdomain(apex, of: $0) }
        }
        var byZone: [String: [ResourceRecord]] = [:]
        for record in served {
            byZone[Self.enclosing(record.owner, in: apexes), default: []].append(record)
        }
        zones = WireName.sortedCanonically(apexes).map { apex in
            Zone(
                name: apex, state: states[apex] ?? .secure,
                parent: apex == "." ? nil : Self.enclosing(Self.parentName(apex), in: apexes),
                records: byZone[apex] ?? [])
        }
    }

    /// The zone that serves `name`.
    public func zone(of name: String) -> Zone? {
        let apexes = Set(zones.map(\.name))
        let apex = Self.enclosing(DNSName.normalize(name), in: apexes)
        return zones.first { $0.name == apex }
    }

    /// The deepest of `apexes` at or above `name`.
    static func enclosing(_ name: String, in apexes: Set<String>) -> String {
        var current = name
        while current != "." {
            if apexes.contains(current) { return current }
            current = parentName(current)
        }
        return "."
    }

    /// `name` without its leftmost label; the root for a top-level name.
    static func parentName(_ name: String) -> String {
        guard name != ".", let dot = name.firstIndex(of: ".") else { return "." }
        return String(name[name.index(after: dot)...])
    }

    /// The rightmost label of `name`.
    static func topLevel(_ name: String) -> String {
        guard name != "." else { return "." }
        return name.split(separator: ".").last.map(String.init) ?? "."
    }
}
