import DNSCore
import Policy
import SPF
import Scenario

/// The world of one client as a case: its DNS built from its facts, the client as the sender
/// (with both its addresses when it has both, IPv6 tried first, so it can fall back), and the site's
/// MX as a dual-stack receiver of `census.test`. The column's policy replaces the receiver's.
public enum CensusWorld {
    public static let canonicalIPv4 = IPAddress("192.0.2.10")!
    public static let canonicalIPv6 = IPAddress("2001:db8:c::10")!
    public static let recipientDomain = "census.test"
    public static let receiverName = "mx.census.test"
    static let receiverCandidates: [(IPAddress, IPAddress)] = [
        (IPAddress("203.0.113.25")!, IPAddress("2001:db8:25::25")!),
        (IPAddress("203.0.113.26")!, IPAddress("2001:db8:25::26")!),
        (IPAddress("203.0.113.27")!, IPAddress("2001:db8:25::27")!),
    ]
    static let elsewhereCandidates: [AddressFamily: [IPAddress]] = [
        .ipv4: [IPAddress("198.51.100.254")!, IPAddress("198.51.100.253")!, IPAddress("198.51.100.252")!],
        .ipv6: [IPAddress("2001:db8:ee::ee")!, IPAddress("2001:db8:ee::ef")!, IPAddress("2001:db8:ee::f0")!],
    ]

    /// The case for `facts`, named `name`.
    public static func scenario(_ facts: ClientFacts, name: String, description: String? = nil) -> ScenarioCase {
        let used = Set(facts.sides.map(\.address))
        let receiver =
            receiverCandidates.first { !used.contains($0.0) && !used.contains($0.1) } ?? receiverCandidates[0]
        func elsewhere(_ family: AddressFamily) -> IPAddress {
            elsewhereCandidates[family]!.first { !used.contains($0) && $0 != receiver.0 && $0 != receiver.1 }!
        }
        var records: [ResourceRecord] = []
        var faults: [DNSFault] = []
        func add(_ owner: String, _ data: RecordData) {
            let record = ResourceRecord(owner: DNSName.normalize(owner), data: data)
            if !records.contains(record) { records.append(record) }
        }
        func address(_ owner: String, _ value: IPAddress) {
            add(owner, value.family == .ipv4 ? .a(value) : .aaaa(value))
        }
        add(recipientDomain, .mx(preference: 10, exchange: receiverName))
        address(receiverName, receiver.0)
        address(receiverName, receiver.1)

        // Reverse DNS.
        for side in facts.sides {
            switch side.reverse {
            case .confirmed(let name):
                add(side.address.reverseName, .ptr(DNSName.normalize(name)))
                address(name, side.address)
            case .unconfirmed(let name, let resolvesElsewhere):
                add(side.address.reverseName, .ptr(DNSName.normalize(name)))
                if resolvesElsewhere { address(name, elsewhere(side.address.family)) }
            case .missing, .unknown:
                break
            case .temporary:
                faults.append(DNSFault(name: side.address.reverseName, kind: .servfail))
            }
        }

        // The HELO name's records.
        if facts.heloIsName, PolicySession.isValidHELO(facts.helo), PolicySession.isFullyQualified(facts.helo) {
            let helo = DNSName.normalize(facts.helo)
            switch facts.heloFound {
            case .found:
                for side in facts.sides {
                    switch side.heloAddress {
                    case .matches: address(helo, side.address)
                    case .elsewhere: address(helo, elsewhere(side.address.family))
                    case .none: break
                    }
                }
                if !records.contains(where: { $0.owner == helo && ($0.type == .a || $0.type == .aaaa) }) {
                    // It resolves, with no address of either family: an MX record is all it has.
                    add(helo, .mx(preference: 10, exchange: helo))
                }
            case .notFound:
                break
            case .temporary:
                faults.append(DNSFault(name: helo, kind: .servfail))
            }
        }

        // SPF of the envelope domain (or the HELO for the null sender): a record that gives each
        // address its result.
        if let domain = facts.spfDomain, DNSName.isValidHostname(domain) {
            let results = facts.sides.map(\.spf)
            if results.contains(.temperror) {
                faults.append(DNSFault(name: domain, kind: .servfail))
            } else if results.contains(.permerror) {
                // Two SPF records: permerror (RFC 7208 4.5).
                add(domain, .txt([Array("v=spf1 -all".utf8)]))
                add(domain, .txt([Array("v=spf1 ?all".utf8)]))
            } else if !results.allSatisfy({ $0 == .none }) {
                var terms = ["v=spf1"]
                for side in facts.sides {
                    let mechanism = (side.address.family == .ipv4 ? "ip4:" : "ip6:") + side.address.description
                    switch side.spf {
                    case .pass: terms.append("+" + mechanism)
                    case .fail: terms.append("-" + mechanism)
                    case .softfail: terms.append("~" + mechanism)
                    case .neutral, .none: terms.append("?" + mechanism)
                    case .temperror, .permerror: break
                    }
                }
                terms.append("-all")
                add(domain, .txt([Array(terms.joined(separator: " ").utf8)]))
            }
        }

        // DNSBL listings.
        for side in facts.sides {
            for zone in side.dnsbl {
                add((side.address.reversedLabels + [zone]).joined(separator: "."), .a(IPAddress("127.0.0.2")!))
            }
        }

        var addresses: [AddressFamily: IPAddress] = [:]
        for side in facts.sides { addresses[side.address.family] = side.address }
        let sender = SenderSpec(
            addresses: addresses, prefer: .ipv6, helo: facts.helo, mailFrom: facts.mailFrom,
            rcptTo: ["postmaster@\(recipientDomain)"])
        let receiverSpec = ReceiverSpec(hostname: receiverName, addresses: [receiver.1, receiver.0])
        return ScenarioCase(
            name: name, description: description, tags: ["census"],
            location: SourceLocation(file: "census", line: 0, column: 0),
            dns: WorldSpec(records: records, faults: faults, reverse: .none), receiver: receiverSpec, sender: sender,
            expect: Expectation())
    }
}
