import DNSCore
import MXHarnessTestKit
import Resolver
import Testing

@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ResolverTests {
    static let lines = [
        "example.test. MX 10 mx.example.test.",
        "example.test. MX 20 backup.example.test.",
        "mx.example.test. A 192.0.2.10",
        "mx.example.test. 600 IN AAAA 2001:db8::10",
        "mail.sender.test. AAAA 2001:db8:5::25",
        "alias.sender.test. CNAME mail.sender.test.",
        "2001:db8:5::25 PTR mail.sender.test.",
        "10.2.0.192.in-addr.arpa. PTR mx.example.test.",
        #"sender.test. TXT "v=spf1 ip6:2001:db8:5::/64" " -all""#,
        #"quote.sender.test. TXT "say \"hi\"" "it's \\ ok" "\128""#,
        "sender.test. NS ns.sender.test.",
    ]

    @Test func eachRecordTypeComesBackTyped() async throws {
        try await WorldFixture.withWorld(WorldSpec(records: WorldFixture.records(Self.lines))) { fixture in
            let dns = fixture.resolver
            #expect(try await dns.addresses(of: "mx.example.test", family: .ipv4) == [IPAddress("192.0.2.10")!])
            #expect(try await dns.addresses(of: "MX.Example.TEST.", family: .ipv6) == [IPAddress("2001:db8::10")!])
            let mx = try await dns.mailExchangers(of: "example.test").sorted { $0.preference < $1.preference }
            #expect(mx.map(\.exchange) == ["mx.example.test", "backup.example.test"])
            #expect(try await dns.reverseNames(of: IPAddress("2001:db8:5::25")!) == ["mail.sender.test"])
            #expect(try await dns.reverseNames(of: IPAddress("192.0.2.10")!) == ["mx.example.test"])
            #expect(try await dns.texts(of: "sender.test") == ["v=spf1 ip6:2001:db8:5::/64 -all"])
            let quoted = try await dns.query("quote.sender.test", .txt)
            #expect(quoted == [.txt([Array("say \"hi\"".utf8), Array("it's \\ ok".utf8), [0x80]])])
            #expect(try await dns.query("sender.test", .ns) == [.ns("ns.sender.test")])
            // CNAME followed by libunbound: the AAAA of the target comes back.
            #expect(try await dns.addresses(of: "alias.sender.test", family: .ipv6) == [IPAddress("2001:db8:5::25")!])
            #expect(try await dns.query("alias.sender.test", .cname) == [.cname("mail.sender.test")])
        }
    }

    @Test func absentNamesAreNXDOMAINAndOtherTypesNODATA() async throws {
        try await WorldFixture.withWorld(WorldSpec(records: WorldFixture.records(Self.lines))) { fixture in
            let dns = fixture.resolver
            await #expect(throws: DNSLookupError.nxdomain(name: "nothere.example.test")) {
                try await dns.query("nothere.example.test", .a)
            }
            await #expect(throws: DNSLookupError.nodata(name: "mail.sender.test", type: .a)) {
                try await dns.query("mail.sender.test", .a)
            }
            // An empty non-terminal exists (RFC 8020): NODATA, not NXDOMAIN.
            await #expect(throws: DNSLookupError.nodata(name: "test", type: .a)) {
                try await dns.query("test", .a)
            }
            // Names a stock unbound or libunbound answers itself.
            for name in [
                "localhost", "x.invalid", "onion", "nope.test", "example", "home.arpa", "1.0.0.127.in-addr.arpa",
                IPAddress("2001:db8::99")!.reverseName, IPAddress("192.0.2.99")!.reverseName,
                IPAddress("10.1.2.3")!.reverseName, IPAddress("::1")!.reverseName,
            ] {
                await #expect(throws: DNSLookupError.nxdomain(name: name), "\(name)") {
                    try await dns.query(name, name.hasSuffix("arpa") ? .ptr : .a)
                }
            }
        }
    }

    @Test(arguments: [
        (DNSFaultKind.nxdomain, "nxdomain"), (.servfail, "servfail"), (.refused, "refused"), (.timeout, "timeout"),
    ])
    func faultsReachTheResolverWithTheirClass(kind: DNSFaultKind, label: String) async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records(["host.broken.test. A 192.0.2.1", "ok.test. A 192.0.2.2"]),
            faults: [DNSFault(name: "broken.test", kind: kind)])
        try await WorldFixture.withWorld(spec, timeout: .milliseconds(600)) {
            (fixture: WorldFixture) async throws -> Void in
            for name in ["broken.test", "host.broken.test", "deep.below.broken.test"] {
                do throws(DNSLookupError) {
                    _ = try await fixture.resolver.query(name, .a)
                    Issue.record("\(name): expected \(label), got an answer")
                } catch {
                    switch (kind, error) {
                    case (.nxdomain, .nxdomain), (.servfail, .servfail), (.timeout, .timeout):
                        break
                    // libunbound's iterator turns an upstream REFUSED into SERVFAIL: both temporary.
                    case (.refused, .refused), (.refused, .servfail):
                        break
                    default:
                        Issue.record("\(name): expected \(label), got \(error)")
                    }
                    #expect(error.isTemporary == (kind != .nxdomain))
                }
            }
            #expect(try await fixture.resolver.addresses(of: "ok.test", family: .ipv4) == [IPAddress("192.0.2.2")!])
        }
    }

    @Test func twoWorldsGiveTheSameNameTheirOwnRecords() async throws {
        async let first = WorldFixture.withWorld(
            WorldSpec(records: try WorldFixture.records(["mail.sender.test. A 192.0.2.1"]))
        ) {
            try await $0.resolver.addresses(of: "mail.sender.test", family: .ipv4)
        }
        async let second = WorldFixture.withWorld(
            WorldSpec(records: try WorldFixture.records(["mail.sender.test. A 198.51.100.1"]))
        ) {
            try await $0.resolver.addresses(of: "mail.sender.test", family: .ipv4)
        }
        #expect(try await first == [IPAddress("192.0.2.1")!])
        #expect(try await second == [IPAddress("198.51.100.1")!])
    }

    @Test func manyConcurrentLookups() async throws {
        try await WorldFixture.withWorld(WorldSpec(records: WorldFixture.records(Self.lines))) { fixture in
            let resolver = fixture.resolver
            try await withThrowingTaskGroup(of: [IPAddress].self) { group in
                for _ in 0..<200 {
                    group.addTask { try await resolver.addresses(of: "mx.example.test", family: .ipv4) }
                }
                for try await answer in group {
                    #expect(answer == [IPAddress("192.0.2.10")!])
                }
            }
        }
    }
}
