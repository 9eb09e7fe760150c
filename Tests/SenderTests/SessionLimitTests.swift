import DNSCore
import Delivery
import MXHarnessTestKit
import SMTPProtocol
import Testing
@testable import Sender

/// `smtp_mx_session_limit`, `smtp_mx_address_limit`, `smtp_skip_5xx_greeting` and
/// `smtp_address_preference = any` in the delivery model, against scripted servers (no sockets).
@Suite("Session and address limits")
struct SessionLimitTests {
    /// Two or three equal-preference dual-stack MX hosts: mx1 .. mxN.
    static func equalMX(_ count: Int) -> (InMemoryDNS, v6: [IPAddress], v4: [IPAddress]) {
        var records: [(String, RecordData)] = []
        var v6: [IPAddress] = [], v4: [IPAddress] = []
        for index in 1...count {
            let host = "mx\(index).example.test"
            records.append(("example.test", .mx(preference: 10, exchange: host)))
            let six = IPAddress("2001:db8::\(index)")!, four = IPAddress("192.0.2.\(index)")!
            records.append((host, .a(four)))
            records.append((host, .aaaa(six)))
            v6.append(six)
            v4.append(four)
        }
        return (InMemoryDNS(records), v6, v4)
    }

    static let deferRCPT = Endpoint.smtp(
        ServerScript.accepting.with { $0.rcptDefault = ["450 4.7.25 Client host rejected: cannot find your hostname"] })
    static let accept = Endpoint.smtp(.accepting)

    /// Every IPv6 address defers at RCPT, every IPv4 one accepts.
    static func ipv6Deferring(_ v6: [IPAddress], _ v4: [IPAddress]) -> [IPAddress: Endpoint] {
        var endpoints: [IPAddress: Endpoint] = [:]
        for address in v6 { endpoints[address] = deferRCPT }
        for address in v4 { endpoints[address] = accept }
        return endpoints
    }

    @Test func twoEqualMXDeferringIPv6DeferAfterTwoSessions() async {
        let (dns, v6, v4) = Self.equalMX(2)
        let report = await World.deliver(dns: dns, endpoints: Self.ipv6Deferring(v6, v4))
        #expect(report.outcome == .deferred)
        #expect(report.attempts.map(\.remoteAddress) == v6)
        #expect(report.decidingReply?.code == 450)
        #expect(report.note?.contains("smtp_mx_session_limit (2) reached") == true)
        #expect(report.destinations.filter { $0.status == .beyondSessionLimit }.map(\.address) == v4)
    }

    @Test func aRaisedSessionLimitReachesIPv4() async {
        let (dns, v6, v4) = Self.equalMX(2)
        let report = await World.deliver(
            dns: dns, endpoints: Self.ipv6Deferring(v6, v4),
            request: World.request(limits: ClientLimits(sessionLimit: 4)))
        #expect(report.outcome == .delivered)
        #expect(report.attempts.map(\.remoteAddress) == v6 + [v4[0]])
        #expect(report.decidingFamily == .ipv4)
    }

    @Test func sessionLimitZeroMeansNoLimit() async {
        let (dns, v6, v4) = Self.equalMX(3)
        let report = await World.deliver(
            dns: dns, endpoints: Self.ipv6Deferring(v6, v4),
            request: World.request(limits: ClientLimits(sessionLimit: 0)))
        #expect(report.outcome == .delivered)
        #expect(report.attempts.map(\.family) == [.ipv6, .ipv6, .ipv6, .ipv4])
    }

    @Test func threeEqualMXStopAtTheLimitToo() async {
        let (dns, v6, v4) = Self.equalMX(3)
        let report = await World.deliver(
            dns: dns, endpoints: Self.ipv6Deferring(v6, v4),
            request: World.request(limits: ClientLimits(sessionLimit: 3)))
        // Three IPv6 sessions use the limit of 3; IPv4 is never reached.
        #expect(report.outcome == .deferred)
        #expect(report.attempts.map(\.remoteAddress) == v6)
    }

    @Test func refusedConnectionsDoNotCount() async {
        let (dns, v6, v4) = Self.equalMX(2)
        var endpoints = Self.ipv6Deferring(v6, v4)
        endpoints[v6[0]] = .refused
        endpoints[v6[1]] = .timedOut
        let report = await World.deliver(dns: dns, endpoints: endpoints)
        #expect(report.outcome == .delivered)
        #expect(report.attempts.map(\.result) == [.unreachable, .unreachable, .accepted])
    }

    @Test func greetingAndHeloFailuresDoNotCount() async {
        let (dns, v6, v4) = Self.equalMX(2)
        var endpoints = Self.ipv6Deferring(v6, v4)
        endpoints[v6[0]] = .smtp(ServerScript.accepting.with { $0.greeting = ["421 4.3.2 busy"] })
        endpoints[v6[1]] = .smtp(ServerScript.accepting.with { $0.ehlo = ["421 4.3.2 going away"] })
        let report = await World.deliver(dns: dns, endpoints: endpoints)
        // smtp_connect.c: "Don't count handshake errors towards the session limit."
        #expect(report.outcome == .delivered)
        #expect(report.attempts.count == 3)
        #expect(report.decidingFamily == .ipv4)
    }

    @Test func anyPreferenceIsPinnedToMXOrderWithIPv4FirstPerHost() async {
        let (dns, v6, v4) = Self.equalMX(2)
        let report = await World.deliver(
            dns: dns, endpoints: Self.ipv6Deferring(v6, v4), request: World.request(prefer: .any))
        // mx1 IPv4 accepts at the first try.
        #expect(report.outcome == .delivered)
        #expect(report.attempts.map(\.remoteAddress) == [v4[0]])
        #expect(report.destinations.map(\.address) == [v4[0], v6[0], v4[1], v6[1]])
    }

    @Test func addressLimitCutsTheList() async {
        let (dns, v6, v4) = Self.equalMX(2)
        let report = await World.deliver(
            dns: dns, endpoints: Self.ipv6Deferring(v6, v4),
            request: World.request(limits: ClientLimits(sessionLimit: 0, addressLimit: 2)))
        // smtp_balance_inet_proto keeps one of each family out of two.
        #expect(report.attempts.map(\.remoteAddress) == [v6[0], v4[0]])
        #expect(report.outcome == .delivered)
        #expect(report.destinations.filter { $0.status == .beyondAddressLimit }.count == 2)
    }

    @Test func addressLimitZeroKeepsEveryAddress() async {
        let (dns, v6, v4) = Self.equalMX(3)
        let report = await World.deliver(
            dns: dns, endpoints: Dictionary(uniqueKeysWithValues: (v6 + v4).map { ($0, Endpoint.refused) }),
            request: World.request(limits: ClientLimits(addressLimit: 0)))
        #expect(report.attempts.count == 6)
        #expect(report.outcome == .deferred)
    }

    @Test func a5xxGreetingBouncesWithoutSkip() async {
        let closed = Endpoint.smtp(ServerScript.accepting.with { $0.greeting = ["554 5.7.1 no thanks"] })
        let skip = await World.deliver(endpoints: [World.mx6: closed, World.mx4: Self.accept])
        #expect(skip.outcome == .delivered)
        let noSkip = await World.deliver(
            endpoints: [World.mx6: closed, World.mx4: Self.accept],
            request: World.request(limits: ClientLimits(skip5xxGreeting: false)))
        #expect(noSkip.outcome == .bounced)
        #expect(noSkip.attempts.count == 1)
        #expect(noSkip.decidingStage == .greeting)
        #expect(noSkip.decidingReply?.code == 554)
    }
}
