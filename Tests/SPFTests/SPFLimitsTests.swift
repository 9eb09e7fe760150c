import DNSCore
import MXHarnessTestKit
import SPF
import Testing

/// Record selection (RFC 7208 4.4, 4.5), errors (2.6), processing limits (4.6.4), identities (2.4, 4.3).
@Suite struct SPFLimitsTests {
    /// `count` `a` terms whose names all resolve, so none of them is a void lookup.
    static func aTerms(_ count: Int) -> (terms: String, records: [(String, RecordData)]) {
        let names = (1...count).map { "h\($0).sender.test" }
        return (
            names.map { "a:\($0)" }.joined(separator: " "), names.map { ($0, RecordData.a(address("198.51.100.1"))) }
        )
    }

    @Test func tenDNSTermsAreAllowed() async {
        let (terms, hosts) = Self.aTerms(10)
        let records = [("sender.test", txt("v=spf1 \(terms) ip4:192.0.2.1 -all"))] + hosts
        #expect(await verdict(records, ip: "192.0.2.1").result == .pass)
    }

    @Test func theEleventhDNSTermIsPermerror() async {
        let (terms, hosts) = Self.aTerms(11)
        let records = [("sender.test", txt("v=spf1 \(terms) ip4:192.0.2.1 -all"))] + hosts
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .permerror)
        #expect(result.reason.hasPrefix("more than 10 DNS-querying terms"))
        #expect(result.matched == "a:h11.sender.test")
    }

    @Test func includedTermsAndRedirectCountToo() async {
        let (terms, hosts) = Self.aTerms(8)
        let records =
            [
                ("sender.test", txt("v=spf1 include:inner.test redirect=other.test")),  // include 1, redirect 10
                ("inner.test", txt("v=spf1 \(terms)")),  // 2...9
                ("other.test", txt("v=spf1 a:h1.sender.test -all")),  // 11
            ] + hosts
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .permerror)
        #expect(result.matched == "redirect=other.test")
        #expect(result.reason.contains("more than 10 DNS-querying terms"))
    }

    @Test func termsAfterTheDecidingOneAreNotCounted() async {
        let (terms, hosts) = Self.aTerms(11)
        let records = [("sender.test", txt("v=spf1 ip4:192.0.2.1 \(terms) -all"))] + hosts
        #expect(await verdict(records, ip: "192.0.2.1").result == .pass)
    }

    @Test func twoVoidLookupsAreAllowedAndTheThirdIsPermerror() async {
        let two = [("sender.test", txt("v=spf1 a:gone1.sender.test mx:gone2.sender.test ?all"))]
        #expect(await verdict(two, ip: "192.0.2.1").result == .neutral)
        let three = [
            ("sender.test", txt("v=spf1 a:gone1.sender.test mx:gone2.sender.test exists:gone3.sender.test ?all"))
        ]
        let result = await verdict(three, ip: "192.0.2.1")
        #expect(result.result == .permerror)
        #expect(result.reason.hasPrefix("more than 2 void lookups"))
        #expect(result.matched == "exists:gone3.sender.test")
    }

    @Test func noDataCountsAsVoidToo() async {
        // The names exist (they have MX records) but no A records.
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 a:n1.sender.test a:n2.sender.test a:n3.sender.test ?all")),
            ("n1.sender.test", .mx(preference: 1, exchange: "mx.sender.test")),
            ("n2.sender.test", .mx(preference: 1, exchange: "mx.sender.test")),
            ("n3.sender.test", .mx(preference: 1, exchange: "mx.sender.test")),
        ]
        #expect(await verdict(records, ip: "192.0.2.1").result == .permerror)
    }

    @Test func moreThanTenMXNamesIsPermerror() async {
        var records: [(String, RecordData)] = [("sender.test", txt("v=spf1 mx -all"))]
        for index in 1...11 {
            records.append(("sender.test", .mx(preference: UInt16(index), exchange: "mx\(index).sender.test")))
            records.append(("mx\(index).sender.test", .a(address("198.51.100.\(index)"))))
        }
        let result = await verdict(records, ip: "198.51.100.1")
        #expect(result.result == .permerror)
        #expect(result.reason.contains("11 MX names"))
        records.removeAll { $0.0 == "sender.test" && $0.1 == .mx(preference: 11, exchange: "mx11.sender.test") }
        #expect(await verdict(records, ip: "198.51.100.10").result == .pass)
    }

    @Test func ptrLooksAtTenNamesOnly() async {
        let client = address("192.0.2.50")
        var records: [(String, RecordData)] = [("sender.test", txt("v=spf1 ptr ?all"))]
        // Ten names that do not validate, then the one that would.
        for index in 1...10 { records.append((client.reverseName, .ptr("other\(index).relay.test"))) }
        records.append((client.reverseName, .ptr("out.sender.test")))
        records.append(("out.sender.test", .a(client)))
        #expect(await verdict(records, ip: "192.0.2.50").result == .neutral)
        records.remove(at: 1)
        #expect(await verdict(records, ip: "192.0.2.50").result == .pass)
    }

    @Test func twoRecordsArePermerror() async {
        let records = [("sender.test", txt("v=spf1 -all")), ("sender.test", txt("V=SPF1 +all"))]
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .permerror)
        #expect(result.reason.hasPrefix("2 SPF records at sender.test"))
    }

    @Test func otherTXTRecordsAreIgnored() async {
        let records = [
            ("sender.test", txt("google-site-verification=abc")),
            ("sender.test", txt("v=spf10 +all")),
            ("sender.test", .txt([Array("v=spf1 ip4:".utf8), Array("192.0.2.1 -all".utf8)])),
        ]
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .pass)
        #expect(result.record == "v=spf1 ip4:192.0.2.1 -all")
    }

    @Test(arguments: [[("sender.test", txt("just text"))], [("sender.test", RecordData.a(address("192.0.2.1")))], []])
    func noRecordIsNone(records: [(String, RecordData)]) async {
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .none)
        #expect(result.reason == "no SPF record at sender.test")
        #expect(result.record == nil)
    }

    @Test(arguments: [InMemoryDNS.Fault.servfail, .timeout, .refused])
    func recordLookupFailureIsTemperror(fault: InMemoryDNS.Fault) async {
        let result = await verdict([], faults: ["sender.test": fault], ip: "192.0.2.1")
        #expect(result.result == .temperror)
        #expect(result.reason.hasPrefix("temporary error: sender.test TXT: "))
        if fault == .servfail { #expect(result.reason == "temporary error: sender.test TXT: SERVFAIL") }
    }

    @Test func mechanismLookupFailureIsTemperror() async {
        let records = [("sender.test", txt("v=spf1 ip4:198.51.100.1 a:mail.slow.test -all"))]
        let result = await verdict(records, faults: ["mail.slow.test": .timeout], ip: "192.0.2.1")
        #expect(result.result == .temperror)
        #expect(result.matched == "a:mail.slow.test")
        #expect(result.record == "v=spf1 ip4:198.51.100.1 a:mail.slow.test -all")
        #expect(result.reason == "temporary error: mail.slow.test A: timed out")
    }

    @Test func syntaxErrorIsPermerrorBeforeAnythingMatches() async {
        let records = [("sender.test", txt("v=spf1 ip4:192.0.2.1 -all a:museum"))]
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .permerror)
        #expect(result.record == "v=spf1 ip4:192.0.2.1 -all a:museum")
        #expect(result.reason.contains("term 3 \"a:museum\""))
    }

    @Test func nullSenderUsesPostmasterAtHELO() async {
        let records = [
            ("mail.sender.test", txt("v=spf1 exists:%{l}.%{o}.ok.test -all")),
            ("postmaster.mail.sender.test.ok.test", RecordData.a(address("127.0.0.2"))),
        ]
        let result = await verdict(records, ip: "192.0.2.1", from: "", helo: "mail.sender.test")
        #expect(result.result == .pass)
        #expect(result.domain == "mail.sender.test")
        #expect(await verdict(records, ip: "192.0.2.1", from: "<>", helo: "mail.sender.test").result == .pass)
    }

    @Test func senderWithoutLocalPartUsesPostmaster() async {
        let records = [
            ("sender.test", txt("v=spf1 exists:%{l}.ok.test -all")),
            ("postmaster.ok.test", RecordData.a(address("127.0.0.2"))),
        ]
        #expect(await verdict(records, ip: "192.0.2.1", from: "@sender.test").result == .pass)
        #expect(await verdict(records, ip: "192.0.2.1", from: "<alice@sender.test>").result == .fail)
    }

    @Test(arguments: ["[192.0.2.1]", "localhost", "a..sender.test", String(repeating: "x", count: 64) + ".test"])
    func invalidDomainIsNoneWithoutAnyLookup(domain: String) async {
        // Every lookup would fail: a none result shows none was made.
        let result = await verdict(
            [], faults: ["test": .servfail, "localhost": .servfail], ip: "192.0.2.1", from: "alice@\(domain)")
        #expect(result.result == .none)
        #expect(result.reason.contains("RFC 7208 4.3"))
    }

    @Test func checkHostTakesDomainAndSenderDirectly() async {
        let records = [
            ("other.test", txt("v=spf1 exists:%{l}.%{o}.%{d}.ok.test -all")),
            ("bob.sender.test.other.test.ok.test", RecordData.a(address("127.0.0.2"))),
        ]
        let evaluator = SPFEvaluator(lookup: InMemoryDNS(records), receiver: "mx.receiver.test", clock: fixedClock)
        let result = await evaluator.checkHost(
            ip: address("2001:db8::1"), domain: "other.test", sender: "bob@sender.test", helo: "h.test")
        #expect(result.result == .pass)
        #expect(result.domain == "other.test")
    }
}
