import DNSCore
import Foundation
import Logging
import Policy
import Resolver
import SPF
import Sandbox

/// The one resolver `--resolver` names (no other server is asked), from inside `namespace` (nil:
/// the current network namespace).
public struct LiveResolver: Sendable {
    public var server: IPAddress
    public var port: UInt16
    public var namespace: NetworkNamespace?
    public var timeout: Duration

    public init(
        server: IPAddress, port: UInt16 = 53, namespace: NetworkNamespace? = nil, timeout: Duration = .seconds(3)
    ) {
        self.server = server
        self.port = port
        self.namespace = namespace
        self.timeout = timeout
    }

    /// `ADDR` or `ADDR@PORT`.
    public init?(_ text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        var port: UInt16 = 53
        if parts.count == 2 {
            guard let given = UInt16(parts[1]), given > 0 else { return nil }
            port = given
        }
        self.init(server: address, port: port)
    }
}

/// A client's facts recorded live, as `capture` records a delivery's DNS: the PTR of each address
/// and the PTR names' addresses (the walk the policy engine makes for `fcrdns`), the HELO's A, AAAA
/// and MX, and the SPF evaluation of the envelope sender (every record it reaches), each through
/// the same code the built-in MX runs. A client whose confirmed name or HELO has an address of the
/// other family it was not seen from gets that address too (`CensusClient.addedFromDNS`): with
/// the MX reachable over that family, it would connect from there.
public enum LiveFacts {
    public static func facts(
        for clients: [CensusClient], resolver: LiveResolver, logger: Logger
    ) async throws -> [(CensusClient, ClientFacts, Set<Assumption>)] {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("census")
        defer { registry.removeDirectory(directory) }
        let lookup = try await DNSResolver(
            configuration: ResolverConfiguration(
                server: resolver.server, port: resolver.port, timeout: resolver.timeout, namespace: resolver.namespace,
                directory: directory,
                cacheCapacity: 65_536),
            logger: logger)
        defer { lookup.shutdown() }
        var results = [(CensusClient, ClientFacts, Set<Assumption>)?](repeating: nil, count: clients.count)
        await withTaskGroup(of: (Int, (CensusClient, ClientFacts, Set<Assumption>)).self) { group in
            var next = 0
            func start() {
                guard next < clients.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await record(clients[index], lookup: lookup)) }
            }
            for _ in 0..<min(32, clients.count) { start() }
            while let (index, result) = await group.next() {
                results[index] = result
                start()
            }
        }
        return results.compactMap { $0 }
    }

    static func record(_ given: CensusClient, lookup: any DNSLookup) async -> (
        CensusClient, ClientFacts, Set<Assumption>
    ) {
        var client = given
        let (base, logged) = LogFacts.facts(for: client)
        var assumptions = logged.subtracting([.heloResolves, .spf])
        let helo = base.helo
        let heloName =
            base.heloIsName && PolicySession.isValidHELO(helo) && PolicySession.isFullyQualified(helo)
            ? DNSName.normalize(helo) : nil

        var addresses = client.addresses.map(\.address)
        var reverses: [IPAddress: ClientFacts.Reverse] = [:]
        for address in addresses { reverses[address] = await reverse(of: address, lookup: lookup) }
        if let only = addresses.first, addresses.count == 1 {
            let other: AddressFamily = only.family == .ipv4 ? .ipv6 : .ipv4
            var names: [String] = []
            if case .confirmed(let name) = reverses[only] { names.append(name) }
            if let heloName, !names.contains(heloName) { names.append(heloName) }
            for name in names {
                if let found = try? await lookup.addresses(of: name, family: other), let first = found.sorted().first {
                    client.addedFromDNS = first
                    addresses.append(first)
                    reverses[first] = await reverse(of: first, lookup: lookup)
                    break
                }
            }
        }

        var heloFound = ClientFacts.HELOFound.notFound
        var heloAddresses: [AddressFamily: Result<[IPAddress], DNSLookupError>] = [:]
        if let heloName {
            var temporary = false
            for type in [RecordType.a, .aaaa, .mx] {
                do throws(DNSLookupError) {
                    let records: [RecordData] = try await lookup.query(heloName, type)
                    if !records.isEmpty { heloFound = .found }
                    if type != .mx {
                        heloAddresses[type == .a ? .ipv4 : .ipv6] = .success(records.compactMap { $0.address })
                    }
                } catch {
                    temporary = temporary || error.isTemporary
                    if type != .mx { heloAddresses[type == .a ? .ipv4 : .ipv6] = .failure(error) }
                }
            }
            if heloFound != .found, temporary { heloFound = .temporary }
        }

        let evaluator = SPFEvaluator(lookup: lookup, receiver: CensusWorld.receiverName)
        var sides: [ClientFacts.Side] = []
        for address in addresses {
            var heloAddress = ClientFacts.HELOAddress.none
            if case .success(let found)? = heloAddresses[address.family] {
                heloAddress = found.contains(address) ? .matches : (found.isEmpty ? .none : .elsewhere)
            }
            let verdict = await evaluator.evaluate(ip: address, mailFrom: base.mailFrom, helo: helo)
            let dnsbl = client.evidence(for: address.family).map { Array($0.dnsbl) } ?? []
            sides.append(
                ClientFacts.Side(
                    address: address, reverse: reverses[address] ?? .missing, heloAddress: heloAddress,
                    spf: verdict.result, dnsbl: dnsbl))
        }
        if heloName == nil { assumptions.remove(.heloResolves) }
        let facts = ClientFacts(
            sides: sides, helo: helo, heloFound: heloName == nil ? .notFound : heloFound, mailFrom: base.mailFrom)
        return (client, facts, assumptions)
    }

    /// The PTR walk of `reject_unknown_client_hostname` (the policy engine's own).
    static func reverse(of address: IPAddress, lookup: any DNSLookup) async -> ClientFacts.Reverse {
        let walk = await ClientIdentityWalk.run(client: address, lookup: lookup)
        if let name = walk.fcrdns?.confirmedName { return .confirmed(name) }
        guard let ptr = walk.ptr else { return .missing }
        if ptr.names.isEmpty { return ptr.isTemporary ? .temporary : .missing }
        let name = ptr.names[0]
        let found = (try? await lookup.addresses(of: name, family: address.family)) ?? []
        return .unconfirmed(name, resolvesElsewhere: !found.isEmpty)
    }
}
