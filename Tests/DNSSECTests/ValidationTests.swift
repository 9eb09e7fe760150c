import DNSCore
import DNSWorld
import Foundation
import MXHarnessTestKit
import Resolver
import Sandbox
import Testing

@testable import DNSSEC

/// A signed world served by unbound and judged by two validators that are not the signer:
/// libunbound with the world's trust anchor, and the world's validating unbound (its rcode, AD
/// bit and extended DNS error, RFC 8914). Each zone state gives what the scenario format's
/// table says, for the reason unbound states.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ValidationTests {
    struct Expected {
        var zone: String
        var state: ZoneState
        /// Words of libunbound's `why_bogus`; nil: the answer validates (or is insecure).
        var why: String?
        /// Words of the validating unbound's EDE text.
        var serverWhy: String?
        /// The validating unbound's EDE INFO-CODE; nil: none.
        var ede: Int?
    }

    static let cases: [Expected] = [
        Expected(zone: "secure.test", state: .secure),
        Expected(zone: "insecure.test", state: .insecure),
        // libunbound says what failed in its crypto call, the daemon the same in other words.
        Expected(
            zone: "bogus.test", state: .bogusSignature, why: "ECDSA signature verification failed",
            serverWhy: "signature crypto failed", ede: 6),
        Expected(
            zone: "expired.test", state: .expired, why: "signature expired", serverWhy: "signature expired", ede: 7),
        Expected(
            zone: "future.test", state: .notYetValid, why: "signature before inception date",
            serverWhy: "before inception", ede: 8),
        // Unsigned data in a signed zone: the validator looks for a zone cut that would make it
        // insecure (a DS query for the name), finds the denial unsigned too, and gives up; the
        // daemon calls that EDE 23 (Network Error) in 1.17.
        Expected(zone: "nosig.test", state: .missingSignatures, why: "no signatures", serverWhy: "no DS", ede: 23),
        Expected(zone: "badds.test", state: .wrongDS, why: "no keys have a DS", serverWhy: "no keys have a DS", ede: 9),
    ]

    static func world() throws -> WorldSpec {
        var lines = [
            "sender.test. TXT \"v=spf1 -all\"", "2001:db8:5::25 PTR mail.sender.test.", "a.b.c.deep.test. A 192.0.2.9",
        ]
        for expected in cases {
            lines += ["\(expected.zone). MX 10 mx.\(expected.zone).", "mx.\(expected.zone). A 192.0.2.10"]
        }
        return WorldSpec(
            records: try lines.map { try ZoneLine.parse($0) }, dnssec: .signed,
            zones: cases.map { ZoneDeclaration(name: $0.zone, state: $0.state) })
    }

    @Test func eachStateValidatesAsTheFormatSays() async throws {
        let spec = try Self.world()
        try await SignedWorldFixture.with(spec) { fixture in
            for expected in Self.cases {
                let name = "mx." + expected.zone
                let validated = await fixture.validating.securedQuery(name, .a)
                let plain = await fixture.plain.securedQuery(name, .a)
                let server = try await ServerQuery.ask(
                    name, 1, server: DNSWorld.validatingAddress, in: fixture.namespace)
                // The non-validating resolver answers the data in every row.
                #expect((try? plain.result.get()) == [.a(IPAddress("192.0.2.10")!)], "\(expected.state): \(plain)")
                #expect(plain.security == .insecure)
                if let why = expected.why {
                    #expect(validated.security == .bogus, "\(expected.state): \(validated)")
                    #expect(
                        validated.whyBogus?.contains(why) == true,
                        "\(expected.state): \(validated.whyBogus ?? "no reason")")
                    #expect(server.rcode == 2, "\(expected.state): rcode \(server.rcode)")
                    #expect(
                        server.extendedError?.code == expected.ede,
                        "\(expected.state): \(String(describing: server.extendedError))")
                    #expect(
                        server.extendedError?.text.contains(expected.serverWhy ?? "") == true,
                        "\(expected.state): \(String(describing: server.extendedError))")
                } else {
                    #expect(
                        (try? validated.result.get()) == [.a(IPAddress("192.0.2.10")!)],
                        "\(expected.state): \(validated)")
                    #expect(
                        validated.security == (expected.state == .secure ? .secure : .insecure), "\(expected.state)")
                    #expect(
                        server.rcode == 0 && server.authenticated == (expected.state == .secure),
                        "\(expected.state): \(server)")
                }
            }
        }
    }

    /// Denial of existence through the NSEC chain: a name absent from a zone, an empty
    /// non-terminal, a type absent at a name, a reverse name, each authenticated.
    @Test func nsecProvesWhatIsNotThere() async throws {
        let spec = try Self.world()
        try await SignedWorldFixture.with(spec) { fixture in
            let absent = await fixture.validating.securedQuery("nothere.secure.test", .a)
            #expect(
                absent.result == .failure(.nxdomain(name: "nothere.secure.test")) && absent.security == .secure,
                "\(absent)")
            let emptyNonTerminal = await fixture.validating.securedQuery("b.c.deep.test", .a)
            #expect(
                emptyNonTerminal.result == .failure(.nodata(name: "b.c.deep.test", type: .a))
                    && emptyNonTerminal.security == .secure, "\(emptyNonTerminal)")
            let noType = await fixture.validating.securedQuery("mx.secure.test", .aaaa)
            #expect(
                noType.result == .failure(.nodata(name: "mx.secure.test", type: .aaaa)) && noType.security == .secure,
                "\(noType)")
            let ptr = await fixture.validating.securedQuery(IPAddress("2001:db8:5::25")!.reverseName, .ptr)
            #expect((try? ptr.result.get()) == [.ptr("mail.sender.test")] && ptr.security == .secure, "\(ptr)")
            let ipv6 = await fixture.validating.securedQuery("ip6.arpa", .ns)
            #expect(
                ipv6.result == .failure(.nodata(name: "ip6.arpa", type: .ns)) && ipv6.security == .secure, "\(ipv6)")
            let server = try await ServerQuery.ask(
                "nothere.secure.test", 1, server: DNSWorld.validatingAddress, in: fixture.namespace)
            #expect(server.rcode == 3 && server.authenticated, "\(server)")
        }
    }

    /// The faults apply on top of a signed world: `nxdomain` is an authenticated NXDOMAIN (the
    /// names are not in the zone), the others as in an unsigned world, for both kinds of resolver.
    @Test func faultsApplyOnTop() async throws {
        var spec = try Self.world()
        spec.records += try [
            "gone.secure.test. A 192.0.2.1", "fail.secure.test. A 192.0.2.2", "no.secure.test. A 192.0.2.3",
            "slow.secure.test. A 192.0.2.4",
        ].map { try ZoneLine.parse($0) }
        spec.faults = [
            DNSFault(name: "gone.secure.test", kind: .nxdomain), DNSFault(name: "fail.secure.test", kind: .servfail),
            DNSFault(name: "no.secure.test", kind: .refused), DNSFault(name: "slow.secure.test", kind: .timeout),
        ]
        try await SignedWorldFixture.with(spec) { fixture in
            for resolver in [fixture.validating, fixture.plain] {
                let gone = await resolver.securedQuery("gone.secure.test", .a)
                #expect(gone.result == .failure(.nxdomain(name: "gone.secure.test")), "\(gone)")
                let fail = await resolver.securedQuery("fail.secure.test", .a)
                #expect(fail.result == .failure(.servfail(name: "fail.secure.test", type: .a)), "\(fail)")
                let refused = await resolver.securedQuery("no.secure.test", .a)
                #expect((try? refused.result.get()) == nil && refused.security != .secure, "\(refused)")
                let slow = await resolver.securedQuery("slow.secure.test", .a)
                #expect(slow.result == .failure(.timeout(name: "slow.secure.test", type: .a)), "\(slow)")
            }
            let gone = await fixture.validating.securedQuery("gone.secure.test", .a)
            #expect(gone.security == .secure)
        }
    }

    /// The root's state decides the trust anchor: `insecure` gives none (every answer insecure),
    /// `wrong-ds` one for another key (every answer bogus).
    @Test func theRootsStateDecidesTheTrustAnchor() async throws {
        var spec = try Self.world()
        spec.zones.append(ZoneDeclaration(name: ".", state: .insecure))
        try await SignedWorldFixture.with(spec) { fixture in
            let answer = await fixture.validating.securedQuery("mx.secure.test", .a)
            #expect((try? answer.result.get()) != nil && answer.security == .insecure, "\(answer)")
        }
        spec.zones[spec.zones.count - 1].state = .wrongDS
        try await SignedWorldFixture.with(spec) { fixture in
            let answer = await fixture.validating.securedQuery("mx.secure.test", .a)
            #expect(answer.security == .bogus, "\(answer)")
        }
    }
}

/// A namespace with a signed world's plain unbound and its validating twin, and a libunbound
/// resolver of each kind.
struct SignedWorldFixture {
    let namespace: NetworkNamespace
    let world: DNSWorld
    let twin: DNSWorld
    let validating: DNSResolver
    let plain: DNSResolver

    static func with(_ spec: WorldSpec, _ body: (SignedWorldFixture) async throws -> Void) async throws {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("test")
        defer { registry.removeDirectory(directory) }
        let namespace = try await NetworkNamespace.create(name: registry.makeName("test"))
        var processes: [DNSWorld] = []
        var resolvers: [DNSResolver] = []
        do {
            let world = try await DNSWorld.start(spec, in: namespace, directory: directory)
            processes.append(world)
            let twin = try world.launchValidatingTwin()
            processes.append(twin)
            try await twin.waitUntilServing()
            let validating = try await DNSResolver(
                configuration: ResolverConfiguration(
                    server: world.resolverAddress, timeout: .milliseconds(800), namespace: namespace,
                    directory: directory,
                    validation: .validating, trustAnchor: world.trustAnchor))
            resolvers.append(validating)
            let plain = try await DNSResolver(
                configuration: ResolverConfiguration(
                    server: world.resolverAddress, timeout: .milliseconds(800), namespace: namespace,
                    directory: directory))
            resolvers.append(plain)
            try await body(
                SignedWorldFixture(namespace: namespace, world: world, twin: twin, validating: validating, plain: plain)
            )
        } catch {
            for resolver in resolvers { resolver.shutdown() }
            for process in processes { await process.stop() }
            await namespace.destroy()
            throw error
        }
        for resolver in resolvers { resolver.shutdown() }
        for process in processes { await process.stop() }
        await namespace.destroy()
    }
}
