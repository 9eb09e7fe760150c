import DNSCore

/// One record of a signed zone, in wire and presentation form.
public struct SignedRecord: Sendable, Hashable {
    /// Normalized (`.` for the root).
    public var owner: String
    public var type: UInt16
    public var ttl: UInt32
    public var rdata: [UInt8]
    /// The RDATA in presentation form.
    public var text: String

    public init(owner: String, type: UInt16, ttl: UInt32, rdata: [UInt8], text: String) {
        self.owner = owner
        self.type = type
        self.ttl = ttl
        self.rdata = rdata
        self.text = text
    }

    /// The record as one zone-file line.
    public var line: String {
        "\(DNSName.presentation(owner))\t\(ttl)\tIN\t\(DNSSECType.name(type))\t\(text)"
    }
}

/// One zone of a signed world, ready to serve.
public struct SignedZone: Sendable {
    /// The apex, normalized (`.` for the root).
    public var name: String
    public var state: ZoneState
    /// The zone directly above, nil for the root.
    public var parent: String?
    /// Every record the zone serves, signatures and NSEC chain included, in canonical order.
    public var records: [SignedRecord]

    /// The zone as a zone file (RFC 1035 5, one record per line).
    public var zoneFile: String {
        var text = "; mxharness signed zone \(DNSName.absolute(name)) (\(state)): generated, do not edit\n"
        for record in records { text += record.line + "\n" }
        return text
    }
}

/// A signed world: its zones and the trust anchor validating resolvers are given.
public struct SignedWorld: Sendable {
    /// Root first, then in canonical order.
    public var zones: [SignedZone]
    /// The root key's DS as a zone-file line (`. IN DS ...`), which unbound takes as a
    /// `trust-anchor:`; nil when the root is `insecure` (validating resolvers have no anchor).
    public var trustAnchor: String?

    public init(zones: [SignedZone], trustAnchor: String?) {
        self.zones = zones
        self.trustAnchor = trustAnchor
    }

    /// The zone that serves `name`.
    public func zone(of name: String) -> SignedZone? {
        var current = DNSName.normalize(name)
        while true {
            if let zone = zones.first(where: { $0.name == current }) { return zone }
            if current == "." { return nil }
            current = ZoneLayout.parentName(current)
        }
    }
}
