import DNSCore
import Delivery
import MXHarnessTestKit
import SMTPProtocol
import Testing
@testable import Sender

@Suite("Destination resolution")
struct DestinationResolverTests {
    private func resolve(_ dns: InMemoryDNS, _ request: DeliveryRequest = World.request()) async -> DestinationPlan {
        await DestinationResolver(lookup: dns).resolve(request)
    }

    @Test func sortsByPreferenceThenPreferredFamilyKeepingDNSOrder() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 20, exchange: "c.example.test")),
            ("example.test", .mx(preference: 10, exchange: "a.example.test")),
            ("example.test", .mx(preference: 10, exchange: "b.example.test")),
            ("a.example.test", .a(IPAddress("192.0.2.1")!)),
            ("b.example.test", .a(IPAddress("192.0.2.2")!)),
            ("b.example.test", .aaaa(IPAddress("2001:db8::2")!)),
            ("c.example.test", .aaaa(IPAddress("2001:db8::3")!)),
        ])
        let plan = await resolve(dns)
        #expect(plan.candidates.map(\.address.description) == ["2001:db8::2", "192.0.2.1", "192.0.2.2", "2001:db8::3"])
        let ipv4First = await resolve(dns, World.request(prefer: .ipv4))
        #expect(
            ipv4First.candidates.map(\.address.description) == ["192.0.2.1", "192.0.2.2", "2001:db8::2", "2001:db8::3"])
    }

    /// Postfix 3.7 keeps an address once for each MX host that has it (smtp_addr.c appends each
    /// host's addresses; nothing removes duplicates across hosts): seen with a real Postfix
    /// sender, whose first MX host was skipped for a failed TLSA lookup and whose second, at the
    /// same address, took the message.
    @Test func anAddressSharedByTwoMXHostsIsTriedForEach() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 10, exchange: "a.example.test")),
            ("example.test", .mx(preference: 20, exchange: "b.example.test")),
            ("a.example.test", .a(World.mx4)),
            ("b.example.test", .a(World.mx4)),
        ])
        let plan = await resolve(dns)
        #expect(plan.candidates.map(\.preference) == [10, 20])
        #expect(plan.candidates.map(\.host) == ["a.example.test", "b.example.test"])
    }

    /// smtp_balance_inet_proto: with more than five addresses of both families, the smaller family
    /// keeps its share instead of being pushed out by the limit.
    @Test(arguments: [
        // (families in order, kept positions)
        ([AddressFamily.ipv6, .ipv6, .ipv6, .ipv6, .ipv6, .ipv6, .ipv4], Set([0, 1, 2, 3, 6])),
        ([.ipv6, .ipv6, .ipv6, .ipv6, .ipv6, .ipv6, .ipv4, .ipv4], Set([0, 1, 2, 6, 7])),
        ([.ipv6, .ipv6, .ipv6, .ipv6, .ipv4, .ipv4, .ipv4], Set([0, 1, 2, 4, 5])),
        ([.ipv4, .ipv4, .ipv4, .ipv6, .ipv6, .ipv6, .ipv6], Set([0, 1, 2, 3, 4])),
        ([.ipv6, .ipv4, .ipv6], Set([0, 1, 2])),
        ([.ipv4, .ipv4, .ipv4, .ipv4, .ipv4, .ipv4], Set([0, 1, 2, 3, 4])),
    ])
    func balancesFamiliesWithinTheAddressLimit(list: [AddressFamily], kept: Set<Int>) {
        #expect(DestinationResolver.balance(list, limit: 5) == kept)
    }

    @Test func skippedFamilyTakesNoPlaceInTheLimit() async {
        var entries: [(String, RecordData)] = [("example.test", .mx(preference: 10, exchange: "mx.example.test"))]
        for index in 1...5 { entries.append(("mx.example.test", .aaaa(IPAddress("2001:db8::\(index)")!))) }
        entries.append(("mx.example.test", .a(World.mx4)))
        let plan = await resolve(InMemoryDNS(entries), World.request(sources: [.ipv4: World.source4]))
        #expect(plan.candidates.map(\.address) == [World.mx4])
        #expect(plan.destinations.filter { $0.status == .skippedNoSourceAddress }.count == 5)
    }

    @Test func lookupErrorOfAnUnusableFamilyIsIgnored() async {
        let dns = InMemoryDNS([
            ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
            ("mx.example.test", .a(World.mx4)),
        ])
        // No AAAA at all: NODATA for the family the sender has no address for either.
        let plan = await resolve(dns, World.request(sources: [.ipv4: World.source4]))
        #expect(plan.failure == nil)
        #expect(plan.candidates.map(\.address) == [World.mx4])
    }

    @Test func mxHostsWithoutAddressesBounce() async {
        let dns = InMemoryDNS([("example.test", .mx(preference: 10, exchange: "gone.example.test"))])
        let plan = await resolve(dns)
        #expect(plan.failure?.outcome == .bounced)
        #expect(plan.failure?.reply.enhanced == "5.4.4")
    }

    @Test func temporaryAddressLookupFailureDefersWhenNothingElseResolves() async {
        let dns = InMemoryDNS(
            [
                ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
                ("example.test", .mx(preference: 20, exchange: "gone.example.test")),
            ],
            faults: ["mx.example.test": .servfail])
        let plan = await resolve(dns)
        #expect(plan.failure?.outcome == .deferred)
        #expect(plan.failure?.reply.enhanced == "4.4.3")
    }

    @Test func temporaryFailureOfOneMXHostLeavesTheOthers() async {
        let dns = InMemoryDNS(
            [
                ("example.test", .mx(preference: 10, exchange: "mx.example.test")),
                ("example.test", .mx(preference: 20, exchange: "backup.example.test")),
                ("backup.example.test", .a(World.mx4)),
            ],
            faults: ["mx.example.test": .timeout])
        let plan = await resolve(dns)
        #expect(plan.failure == nil)
        #expect(plan.candidates.map(\.host) == ["backup.example.test"])
        #expect(plan.notes.contains { $0.contains("timed out") })
    }

    @Test func nullMXMixedWithRealMXIsIgnored() async {
        var entries = World.dns.records.map { ($0.owner, $0.data) }
        entries.append(("example.test", .mx(preference: 0, exchange: ".")))
        let plan = await resolve(InMemoryDNS(entries))
        #expect(plan.failure == nil)
        #expect(plan.candidates.count == 2)
    }

    @Test func domainLiteralAndAddressRelayNeedNoDNS() async {
        let literal = await resolve(InMemoryDNS([]), World.request(recipients: ["bob@[192.0.2.10]"]))
        #expect(literal.candidates.map(\.address) == [World.mx4])
        let relay = await resolve(InMemoryDNS([]), World.request(relay: .host("[IPv6:2001:db8::10]")))
        #expect(relay.candidates.map(\.address) == [World.mx6])
    }

    @Test func recipientWithoutDomainBounces() async {
        let plan = await resolve(World.dns, World.request(recipients: ["bob"]))
        #expect(plan.failure?.outcome == .bounced)
    }
}
