import DNSCore
import Foundation

/// Signs a world: every zone of its `ZoneLayout` gets a key, a DNSKEY RRset, RRSIGs over every
/// authoritative RRset and an NSEC chain, and its parent a DS (RFC 4033-4035, algorithm 13 of
/// RFC 6605). Each zone's `state` is made here, as a signer that went wrong would make it:
///
/// | state | what the signer does |
/// |---|---|
/// | `secure` | signs, DS in the parent |
/// | `insecure` | signs, no DS in the parent (the parent's NSEC at the cut proves there is none) |
/// | `bogus-signature` | one bit of every signature flipped, but the DNSKEY RRset's |
/// | `expired` | every signature valid from 60 to 30 days ago |
/// | `not-yet-valid` | every signature valid from 30 to 60 days from now |
/// | `missing-signatures` | every RRSIG left out, but the DNSKEY RRset's |
/// | `wrong-ds` | the parent's DS is of another key (a key roll whose DS was not updated) |
///
/// The DNSKEY RRset stays valid in `bogus-signature` and `missing-signatures`, so a validator
/// reaches the answer's own signature and says what is wrong with it. For the root, whose DS is
/// the trust anchor itself, `wrong-ds` gives the anchor of another key and `insecure` none.
public enum WorldSigner {
    /// How long the signatures of a world last (RFC 4035 5.3.1 checks the window).
    public static let validity: UInt32 = 30 * 86400
    /// How far back signatures start, for clocks behind the signer's.
    public static let backdating: UInt32 = 3600
    /// The TTL of the records the signer adds (SOA, NS, DNSKEY, DS where the world has none).
    public static let ttl: UInt32 = ZoneLine.defaultTTL

    public struct SigningError: Error, Sendable, CustomStringConvertible {
        public var zone: String
        public var problem: String
        public var description: String { "cannot sign zone \(DNSName.absolute(zone)): \(problem)" }
    }

    /// Signs `spec`'s zones at `now` (seconds since 1970) with `keys`.
    public static func sign(
        _ spec: WorldSpec, now: UInt32 = UInt32(Date().timeIntervalSince1970), keys: KeyRing = .shared
    ) throws(SigningError) -> SignedWorld {
        let layout = ZoneLayout(spec)
        let byName = Dictionary(uniqueKeysWithValues: layout.zones.map { ($0.name, $0) })
        var apexNS: [String: [RRset.Member]] = [:]
        for zone in layout.zones {
            apexNS[zone.name] = Self.apexNameServers(zone)
        }
        var signed: [SignedZone] = []
        for zone in layout.zones {
            var sets = RRsetCollection()
            for record in zone.records {
                sets.add(
                    owner: record.owner, type: record.type.code, ttl: record.ttl, rdata: RecordWire.rdata(record.data),
                    text: record.data.description)
            }
            if sets[zone.name, RecordType.soa.code] == nil {
                let soa = RecordData.soa(
                    mname: zone.name, rname: zone.name == "." ? "hostmaster" : "hostmaster." + zone.name, serial: 1,
                    refresh: 3600, retry: 600, expire: 86400, minimum: ttl)
                sets.add(
                    owner: zone.name, type: RecordType.soa.code, ttl: ttl, rdata: RecordWire.rdata(soa),
                    text: soa.description)
            }
            if sets[zone.name, RecordType.ns.code] == nil {
                for member in apexNS[zone.name] ?? [] {
                    sets.add(
                        owner: zone.name, type: RecordType.ns.code, ttl: member.ttl, rdata: member.rdata,
                        text: member.text)
                }
            }
            let key = keys.key(for: zone.name)
            sets.add(owner: zone.name, type: DNSSECType.dnskey, ttl: ttl, rdata: key.dnskeyRDATA, text: key.dnskeyText)
            // Delegations: the child's NS set, and its DS unless the child is insecure.
            var cuts: Set<String> = []
            for child in layout.zones where child.parent == zone.name {
                cuts.insert(child.name)
                for member in apexNS[child.name] ?? [] {
                    sets.add(
                        owner: child.name, type: RecordType.ns.code, ttl: member.ttl, rdata: member.rdata,
                        text: member.text)
                }
                guard child.state != .insecure else { continue }
                let childKey = child.state == .wrongDS ? keys.spareKey(for: child.name) : keys.key(for: child.name)
                sets.add(
                    owner: child.name, type: DNSSECType.ds, ttl: ttl, rdata: childKey.dsRDATA, text: childKey.dsText)
            }
            signed.append(try sign(zone: zone, sets: sets, cuts: cuts, key: key, now: now))
        }
        return SignedWorld(
            zones: signed, trustAnchor: trustAnchor(rootState: byName["."]?.state ?? .secure, keys: keys))
    }

    /// The trust anchor validating resolvers of `spec` are given: the root key's DS as a zone-file
    /// line; nil for an unsigned world or an `insecure` root. It depends on the root zone only, so
    /// a resolver can be made without signing the world.
    public static func trustAnchor(for spec: WorldSpec, keys: KeyRing = .shared) -> String? {
        guard spec.isSigned else { return nil }
        let root = spec.zones.last { $0.name == "." }?.state ?? .secure
        return trustAnchor(rootState: root, keys: keys)
    }

    static func trustAnchor(rootState: ZoneState, keys: KeyRing) -> String? {
        guard rootState != .insecure else { return nil }
        let key = rootState == .wrongDS ? keys.spareKey(for: ".") : keys.key(for: ".")
        return ". \(ttl) IN DS \(key.dsText)"
    }

    /// The zone's apex NS set: the world's NS records at the apex, else one naming the apex itself
    /// (every zone is served by the same unbound, which never looks the name server up).
    static func apexNameServers(_ zone: ZoneLayout.Zone) -> [RRset.Member] {
        let written = zone.records.filter { $0.owner == zone.name && $0.type == .ns }
        if !written.isEmpty {
            return written.map {
                RRset.Member(rdata: RecordWire.rdata($0.data), text: $0.data.description, ttl: $0.ttl)
            }
        }
        let data = RecordData.ns(zone.name)
        return [RRset.Member(rdata: RecordWire.rdata(data), text: data.description, ttl: ttl)]
    }

    static func sign(
        zone: ZoneLayout.Zone, sets: RRsetCollection, cuts: Set<String>, key: ZoneKey, now: UInt32
    ) throws(SigningError) -> SignedZone {
        var sets = sets
        let soa = sets[zone.name, RecordType.soa.code]
        let soaMinimum = soa?.members.first.map { UInt32(bytes: $0.rdata.suffix(4)) } ?? ttl
        let nsecTTL = min(soa?.ttl ?? ttl, soaMinimum)
        // The NSEC chain (RFC 4034 4, RFC 4035 2.3) over every owner, in canonical order.
        let owners = WireName.sortedCanonically(sets.owners)
        for (index, owner) in owners.enumerated() {
            let next = owners[(index + 1) % owners.count]
            var types = Set(sets.types(at: owner))
            types.insert(DNSSECType.nsec)
            types.insert(DNSSECType.rrsig)
            sets.add(
                owner: owner, type: DNSSECType.nsec, ttl: nsecTTL, rdata: WireName.wire(next) + typeBitmap(types),
                text: DNSName.presentation(next) + " " + types.sorted().map(DNSSECType.name).joined(separator: " "))
        }
        var (inception, expiration) = (now &- backdating, now &+ validity)
        switch zone.state {
        case .expired: (inception, expiration) = (now &- 2 * validity, now &- validity)
        case .notYetValid: (inception, expiration) = (now &+ validity, now &+ 2 * validity)
        default: break
        }
        var records: [SignedRecord] = []
        for set in sets.all(ownersInOrder: owners) {
            records += set.members.map {
                SignedRecord(owner: set.owner, type: set.type, ttl: set.ttl, rdata: $0.rdata, text: $0.text)
            }
            // Delegation NS sets are not signed by the parent (RFC 4035 2.2).
            let isDelegationNS = set.type == RecordType.ns.code && cuts.contains(set.owner)
            guard !isDelegationNS else { continue }
            let keepsSignature = set.type == DNSSECType.dnskey
            if zone.state == .missingSignatures && !keepsSignature { continue }
            var signature: SignedRecord
            do {
                signature = try rrsig(
                    over: set, zone: zone.name, key: key, inception: inception, expiration: expiration)
            } catch {
                throw SigningError(zone: zone.name, problem: "\(error)")
            }
            if zone.state == .bogusSignature && !keepsSignature { signature.corruptSignature() }
            records.append(signature)
        }
        return SignedZone(name: zone.name, state: zone.state, parent: zone.parent, records: records)
    }

    /// The RRSIG over `set` (RFC 4034 3.1.8.1): the signed data is the RRSIG RDATA without its
    /// signature, then every RR of the set in canonical form and order with the original TTL.
    static func rrsig(
        over set: RRset, zone: String, key: ZoneKey, inception: UInt32, expiration: UInt32
    ) throws -> SignedRecord {
        let labels = WireName.signatureLabelCount(set.owner)
        let signer = WireName.wire(zone)
        let header =
            RecordWire.uint16(set.type) + [ZoneKey.algorithm, labels] + RecordWire.uint32(set.ttl)
            + RecordWire.uint32(expiration) + RecordWire.uint32(inception) + RecordWire.uint16(key.keyTag) + signer
        var data = header
        let owner = WireName.wire(set.owner)
        for member in set.canonicalMembers {
            data += owner + RecordWire.uint16(set.type) + [0, 1] + RecordWire.uint32(set.ttl)
            data += RecordWire.uint16(UInt16(member.rdata.count)) + member.rdata
        }
        let signature = try key.sign(data)
        let text =
            "\(DNSSECType.name(set.type)) \(ZoneKey.algorithm) \(labels) \(set.ttl) "
            + "\(timestamp(expiration)) \(timestamp(inception)) \(key.keyTag) \(DNSName.presentation(zone)) "
            + Base64.encode(signature)
        return SignedRecord(
            owner: set.owner, type: DNSSECType.rrsig, ttl: set.ttl, rdata: header + signature, text: text)
    }

    /// The NSEC type bit maps field (RFC 4034 4.1.2).
    static func typeBitmap(_ types: Set<UInt16>) -> [UInt8] {
        var out: [UInt8] = []
        let windows = Dictionary(grouping: types) { UInt8($0 >> 8) }
        for window in windows.keys.sorted() {
            let low = windows[window]!.map { Int($0 & 0xff) }
            var bitmap = [UInt8](repeating: 0, count: low.max()! / 8 + 1)
            for bit in low { bitmap[bit / 8] |= 0x80 >> UInt8(bit % 8) }
            out += [window, UInt8(bitmap.count)] + bitmap
        }
        return out
    }

    /// `YYYYMMDDHHmmSS` in UTC (RFC 4034 3.2).
    static func timestamp(_ seconds: UInt32) -> String {
        let days = Int(seconds / 86400)
        let rest = Int(seconds % 86400)
        // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))\(two(rest / 3600))\(two(rest / 60 % 60))\(two(rest % 60))"
    }
}

/// An RRset being assembled: one owner and type, its members without duplicates.
struct RRset {
    struct Member: Hashable {
        var rdata: [UInt8]
        var text: String
        var ttl: UInt32 = 0
    }

    var owner: String
    var type: UInt16
    /// The least TTL of the members: an RRset has one TTL (RFC 2181 5.2).
    var ttl: UInt32
    var members: [Member]

    /// Members in canonical order (RFC 4034 6.3): by RDATA as unsigned bytes.
    var canonicalMembers: [Member] {
        members.sorted { $0.rdata.lexicographicallyPrecedes($1.rdata) }
    }
}

struct RRsetCollection {
    private var sets: [String: [UInt16: RRset]] = [:]

    subscript(owner: String, type: UInt16) -> RRset? { sets[owner]?[type] }

    mutating func add(owner: String, type: UInt16, ttl: UInt32, rdata: [UInt8], text: String) {
        var set = sets[owner]?[type] ?? RRset(owner: owner, type: type, ttl: ttl, members: [])
        set.ttl = min(set.ttl, ttl)
        if !set.members.contains(where: { $0.rdata == rdata }) {
            set.members.append(RRset.Member(rdata: rdata, text: text, ttl: ttl))
        }
        sets[owner, default: [:]][type] = set
    }

    var owners: [String] { Array(sets.keys) }

    func types(at owner: String) -> [UInt16] { sets[owner].map { Array($0.keys) } ?? [] }

    /// Every RRset, by owner in the order given (canonical), then by type.
    func all(ownersInOrder owners: [String]) -> [RRset] {
        owners.flatMap { owner in
            sets[owner].map { types in types.keys.sorted().map { types[$0]! } } ?? []
        }
    }
}

extension SignedRecord {
    /// Flips the last bit of an RRSIG's signature, leaving it well formed.
    mutating func corruptSignature() {
        guard type == DNSSECType.rrsig, let last = rdata.indices.last else { return }
        rdata[last] ^= 0x01
        let signature = Array(rdata.suffix(64))
        if let space = text.lastIndex(of: " ") {
            text = String(text[..<space]) + " " + Base64.encode(signature)
        }
    }
}

extension UInt32 {
    init(bytes: some Collection<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }
}
