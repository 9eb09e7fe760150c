import DNSCore
import Policy

/// One sending host as the logs show it: one address, or an IPv4 and an IPv6 address that the
/// logs tie together (the same forward-confirmed name, or the same HELO, used from exactly those
/// two addresses).
public struct CensusClient: Sendable {
    /// The client's addresses' evidence, IPv4 first.
    public var addresses: [AddressEvidence]
    /// An address of the other family found in DNS (`--resolver`), not seen in the logs: a name of
    /// the client has it, so the client would connect from it once the MX has that family.
    public var addedFromDNS: IPAddress?

    public init(addresses: [AddressEvidence], addedFromDNS: IPAddress? = nil) {
        self.addresses = addresses.sorted { $0.address < $1.address }
        self.addedFromDNS = addedFromDNS
    }

    public var sessions: Int { addresses.reduce(0) { $0 + $1.sessions } }
    public var messages: Int { addresses.reduce(0) { $0 + $1.messages } }

    public func evidence(for family: AddressFamily) -> AddressEvidence? {
        addresses.first { $0.address.family == family }
    }

    /// Seen over both families, or has a name with both.
    public var isDualStack: Bool {
        Set(addresses.map(\.address.family)).count == 2 || addedFromDNS != nil
    }

    /// The HELO names of all its addresses with their counts.
    public var helos: [String: Int] {
        addresses.reduce(into: [:]) { $0.merge($1.helos, uniquingKeysWith: +) }
    }

    /// The HELO seen most often; nil when the logs have none.
    public var helo: String? {
        helos.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    /// Envelope senders with their messages.
    public var senders: [String: Int] {
        addresses.reduce(into: [:]) { $0.merge($1.senders, uniquingKeysWith: +) }
    }

    /// The sender with the most messages (ties: alphabetical); nil when none was logged.
    public var primarySender: String? {
        senders.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    /// Envelope domains with their messages (`<>` for the null sender).
    public var domains: [String: Int] {
        var out: [String: Int] = [:]
        for (sender, count) in senders {
            out[sender.isEmpty ? "<>" : (LogText.domain(of: sender) ?? sender.lowercased()), default: 0] += count
        }
        return out
    }

    /// A stable name: its addresses.
    public var key: String { addresses.map(\.address.description).joined(separator: "+") }
}

/// Groups the logs' addresses into clients.
public enum ClientGrouping {
    /// A host name links an IPv4 and an IPv6 address when both are known by it (a confirmed name,
    /// a PTR name that did not resolve back, or a HELO) and no other address of either family is: a
    /// name known from more addresses (a cluster, or a HELO forged by many) links nothing, since
    /// which two belong together cannot be told. Names confirmed on both sides link first.
    public static func group(_ addresses: [AddressEvidence]) -> [CensusClient] {
        var byName: [String: Set<IPAddress>] = [:]
        var confirmedBoth: [String: Int] = [:]
        for entry in addresses {
            var names = Set(entry.confirmedNames.keys)
            for name in names { confirmedBoth[name, default: 0] += 1 }
            if let (name, _) = entry.unconfirmedName { names.insert(name) }
            for helo in entry.helos.keys {
                let normal = LogText.normalizedHELO(helo)
                guard PolicySession.literalAddress(normal) == nil, PolicySession.isValidHELO(normal),
                    PolicySession.isFullyQualified(normal),
                    !normal.hasPrefix("localhost")
                else { continue }
                names.insert(normal)
            }
            for name in names { byName[name, default: []].insert(entry.address) }
        }
        let keys = byName.map {
            (strength: confirmedBoth[$0.key, default: 0] >= 2 ? 0 : 1, key: $0.key, addresses: $0.value.sorted())
        }
        .sorted { ($0.strength, $0.key) < ($1.strength, $1.key) }
        var partner: [IPAddress: IPAddress] = [:]
        for link in keys {
            let v4 = link.addresses.filter { $0.family == .ipv4 }
            let v6 = link.addresses.filter { $0.family == .ipv6 }
            guard v4.count == 1, v6.count == 1, partner[v4[0]] == nil, partner[v6[0]] == nil else { continue }
            partner[v4[0]] = v6[0]
            partner[v6[0]] = v4[0]
        }
        let byAddress = Dictionary(addresses.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        var clients: [CensusClient] = []
        var done = Set<IPAddress>()
        for entry in addresses.sorted(by: { $0.address < $1.address }) where !done.contains(entry.address) {
            done.insert(entry.address)
            var members = [entry]
            if let other = partner[entry.address], let otherEntry = byAddress[other] {
                done.insert(other)
                members.append(otherEntry)
            }
            clients.append(CensusClient(addresses: members))
        }
        return clients
    }
}
