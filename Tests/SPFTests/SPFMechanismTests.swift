import DNSCore
import MXHarnessTestKit
import SPF
import Testing

/// Each mechanism and qualifier of RFC 7208 5 and 4.6.2, for IPv4 and IPv6 clients.
@Suite struct SPFMechanismTests {
    @Test(arguments: [("+", SPFResult.pass), ("", .pass), ("-", .fail), ("~", .softfail), ("?", .neutral)])
    func qualifierGivesResult(qualifier: String, result: SPFResult) async {
        let records = [("sender.test", txt("v=spf1 \(qualifier)ip4:192.0.2.0/24"))]
        let inside = await verdict(records, ip: "192.0.2.10")
        #expect(inside.result == result)
        #expect(inside.matched == "\(qualifier)ip4:192.0.2.0/24")
        let outside = await verdict(records, ip: "198.51.100.1")
        #expect(outside.result == .neutral)
        #expect(outside.matched == "default")
    }

    @Test func allMatchesEveryClient() async {
        let records = [("sender.test", txt("v=spf1 -all"))]
        #expect(await verdict(records, ip: "203.0.113.9").result == .fail)
        #expect(await verdict(records, ip: "2001:db8::9").result == .fail)
    }

    @Test func ip4AndIp6MatchOnlyTheirFamily() async {
        let records = [("sender.test", txt("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:5::/64 -all"))]
        let v6 = await verdict(records, ip: "2001:db8:5::25")
        #expect(v6.result == .pass)
        #expect(v6.matched == "ip6:2001:db8:5::/64")
        #expect(v6.record == "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:5::/64 -all")
        #expect(await verdict(records, ip: "2001:db8:6::25").result == .fail)
        #expect(await verdict(records, ip: "192.0.2.200").matched == "ip4:192.0.2.0/24")
        #expect(await verdict(records, ip: "192.0.3.1").result == .fail)
    }

    @Test func ipv4MappedClientIsEvaluatedAsIPv4() async {
        let records = [("sender.test", txt("v=spf1 ip6:::ffff:192.0.2.10/128 ip4:192.0.2.10 -all"))]
        let mapped = await verdict(records, ip: "::ffff:192.0.2.10")
        #expect(mapped.result == .pass)
        #expect(mapped.matched == "ip4:192.0.2.10")
        #expect(mapped.reason.hasPrefix("192.0.2.10 matches"))
    }

    @Test func aLooksUpTheClientsFamilyWithDualCIDR() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 a:mail.sender.test/24//64 -all")),
            ("mail.sender.test", .a(address("192.0.2.25"))),
            ("mail.sender.test", .aaaa(address("2001:db8:25::1"))),
        ]
        let v4 = await verdict(records, ip: "192.0.2.99")
        #expect(v4.result == .pass)
        #expect(v4.reason.contains("mail.sender.test has 192.0.2.25"))
        #expect(await verdict(records, ip: "2001:db8:25::abcd").result == .pass)
        #expect(await verdict(records, ip: "198.51.100.25").result == .fail)
        #expect(await verdict(records, ip: "2001:db8:26::1").result == .fail)
    }

    @Test func aWithoutDomainUsesTheCurrentDomainAndFullLengths() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 a -all")),
            ("sender.test", .a(address("192.0.2.25"))),
        ]
        #expect(await verdict(records, ip: "192.0.2.25").result == .pass)
        #expect(await verdict(records, ip: "192.0.2.26").result == .fail)
        // An IPv6 client asks for AAAA, which sender.test lacks: the A record does not count.
        #expect(await verdict(records, ip: "2001:db8::25").result == .fail)
    }

    @Test func mxMatchesTheExchangesAddresses() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 mx//48 -all")),
            ("sender.test", .mx(preference: 10, exchange: "mx1.sender.test")),
            ("sender.test", .mx(preference: 20, exchange: "mx2.sender.test")),
            ("mx1.sender.test", .a(address("192.0.2.1"))),
            ("mx2.sender.test", .aaaa(address("2001:db8:2::1"))),
        ]
        let v4 = await verdict(records, ip: "192.0.2.1")
        #expect(v4.result == .pass)
        #expect(v4.reason.contains("MX mx1.sender.test"))
        #expect(await verdict(records, ip: "192.0.2.2").result == .fail)
        #expect(await verdict(records, ip: "2001:db8:2::ffff").result == .pass)
    }

    @Test func mxNeverFallsBackToTheDomainsOwnAddress() async {
        // RFC 7208 5.4: no MX records means no match, not an implicit MX.
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 mx ?all")),
            ("sender.test", .a(address("192.0.2.1"))),
        ]
        #expect(await verdict(records, ip: "192.0.2.1").result == .neutral)
    }

    @Test func nullMXMatchesNothing() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 mx -all")),
            ("sender.test", .mx(preference: 0, exchange: "")),
        ]
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .fail)
        #expect(result.matched == "-all")
    }

    @Test func ptrNeedsAValidatedName() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 ptr -all")),
            ("10.2.0.192.in-addr.arpa", .ptr("out.sender.test")),
            ("out.sender.test", .a(address("192.0.2.10"))),
            // Claims a sender.test name, but the name's address is another one.
            ("11.2.0.192.in-addr.arpa", .ptr("fake.sender.test")),
            ("fake.sender.test", .a(address("198.51.100.11"))),
        ]
        let good = await verdict(records, ip: "192.0.2.10")
        #expect(good.result == .pass)
        #expect(good.reason.contains("validated name out.sender.test"))
        #expect(await verdict(records, ip: "192.0.2.11").result == .fail)
        #expect(await verdict(records, ip: "192.0.2.12").result == .fail)
    }

    @Test func ptrWithTargetAndIPv6Client() async {
        let client = address("2001:db8::77")
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 ptr:Relay.Test -all")),
            (client.reverseName, .ptr("out.RELAY.test")),
            ("out.relay.test", .aaaa(client)),
        ]
        #expect(await verdict(records, ip: "2001:db8::77").result == .pass)
    }

    @Test func existsAlwaysQueriesA() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 exists:%{ir}.%{v}.allow.sender.test -all")),
            ("10.2.0.192.in-addr.allow.sender.test", .a(address("127.0.0.2"))),
            (
                address("2001:db8::77").reversedLabels.joined(separator: ".") + ".ip6.allow.sender.test",
                .a(address("127.0.0.2"))
            ),
        ]
        #expect(await verdict(records, ip: "192.0.2.10").result == .pass)
        #expect(await verdict(records, ip: "192.0.2.11").result == .fail)
        #expect(await verdict(records, ip: "2001:db8::77").result == .pass)
    }

    @Test func mechanismsAreTriedInOrder() async {
        let records = [("sender.test", txt("v=spf1 -ip4:192.0.2.66 ip4:192.0.2.0/24 -all"))]
        #expect(await verdict(records, ip: "192.0.2.66").result == .fail)
        #expect(await verdict(records, ip: "192.0.2.67").result == .pass)
    }

    @Test func invalidTargetAfterExpansionDoesNotMatch() async {
        // %{l} holds an empty label here: no query can be made, so the mechanism does not match.
        let records = [("sender.test", txt("v=spf1 a:%{l}.sender.test ~all"))]
        let result = await verdict(records, ip: "192.0.2.1", from: "a..b@sender.test")
        #expect(result.result == .softfail)
    }
}
