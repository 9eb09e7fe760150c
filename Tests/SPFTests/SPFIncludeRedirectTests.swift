import DNSCore
import MXHarnessTestKit
import SPF
import Testing

/// `include` (RFC 7208 5.2), `redirect` (6.1) and `exp` (6.2).
@Suite struct SPFIncludeRedirectTests {
    /// What the included domain publishes, and what `include:spf.partner.test ?all` then gives.
    enum Included: String, CaseIterable, Sendable {
        case pass, fail, softfail, neutral, temperror, permerror, none
    }

    /// RFC 7208 5.2's table: pass matches; fail, softfail and neutral do not; temperror and
    /// permerror propagate; none becomes permerror.
    @Test(arguments: [
        (Included.pass, SPFResult.pass), (.fail, .neutral), (.softfail, .neutral), (.neutral, .neutral),
        (.temperror, .temperror), (.permerror, .permerror), (.none, .permerror),
    ])
    func includeResultsTable(included: Included, expected: SPFResult) async {
        var records: [(String, RecordData)] = [("sender.test", txt("v=spf1 include:spf.partner.test ?all"))]
        var faults: [String: InMemoryDNS.Fault] = [:]
        switch included {
        case .pass: records.append(("spf.partner.test", txt("v=spf1 ip4:192.0.2.0/24 -all")))
        case .fail: records.append(("spf.partner.test", txt("v=spf1 -all")))
        case .softfail: records.append(("spf.partner.test", txt("v=spf1 ~all")))
        case .neutral: records.append(("spf.partner.test", txt("v=spf1 ?all")))
        case .temperror: faults["spf.partner.test"] = .servfail
        case .permerror: records.append(("spf.partner.test", txt("v=spf1 ip4:192.0.2.0/24 moo")))
        case .none: records.append(("spf.partner.test", txt("not an SPF record")))
        }
        let result = await verdict(records, faults: faults, ip: "192.0.2.7")
        #expect(result.result == expected, "\(result)")
        switch expected {
        case .pass, .temperror, .permerror: #expect(result.matched == "include:spf.partner.test")
        default: #expect(result.matched == "?all")
        }
        if included == .temperror { #expect(result.reason == "temporary error: spf.partner.test TXT: SERVFAIL") }
    }

    @Test func includeTakesTheOuterQualifier() async {
        let records = [
            ("sender.test", txt("v=spf1 -include:bad.partner.test +all")),
            ("bad.partner.test", txt("v=spf1 ip4:203.0.113.0/24")),
        ]
        #expect(await verdict(records, ip: "203.0.113.5").result == .fail)
        #expect(await verdict(records, ip: "192.0.2.5").result == .pass)
    }

    @Test func includeChangesTheCurrentDomain() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 include:partner.test -all")),
            ("partner.test", txt("v=spf1 a -all")),
            ("partner.test", .a(address("198.51.100.20"))),
            ("sender.test", .a(address("192.0.2.20"))),
        ]
        #expect(await verdict(records, ip: "198.51.100.20").result == .pass)
        #expect(await verdict(records, ip: "192.0.2.20").result == .fail)
    }

    @Test func redirectAppliesWhenNothingMatches() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 ip4:192.0.2.1 redirect=_spf.other.test")),
            ("_spf.other.test", txt("v=spf1 a -all")),
            ("_spf.other.test", .a(address("198.51.100.2"))),
        ]
        let passed = await verdict(records, ip: "198.51.100.2")
        #expect(passed.result == .pass)
        #expect(passed.matched == "redirect=_spf.other.test")
        #expect(passed.reason.contains("matches a in the SPF record of _spf.other.test"))
        #expect(await verdict(records, ip: "192.0.2.1").matched == "ip4:192.0.2.1")
        #expect(await verdict(records, ip: "203.0.113.1").result == .fail)
    }

    @Test func redirectToNoRecordIsPermerror() async {
        let records = [("sender.test", txt("v=spf1 redirect=nothing.other.test"))]
        let result = await verdict(records, ip: "192.0.2.1")
        #expect(result.result == .permerror)
        #expect(result.matched == "redirect=nothing.other.test")
    }

    @Test func redirectIsIgnoredWhenAllMatches() async {
        let records = [("sender.test", txt("v=spf1 redirect=sender.test ~all"))]
        #expect(await verdict(records, ip: "192.0.2.1").result == .softfail)
    }

    @Test func explanationForFail() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 -ip4:192.0.2.0/24 ~all exp=why.%{d}")),
            ("why.sender.test", txt("%{i} may not send for %{o} (%{l}); see https://sender.test/spf?c=%{C}")),
        ]
        let failed = await verdict(records, ip: "192.0.2.3", from: "bob@sender.test")
        #expect(failed.result == .fail)
        #expect(
            failed.explanation
                == "192.0.2.3 may not send for sender.test (bob); see https://sender.test/spf?c=192.0.2.3")
        // Only fail carries an explanation (RFC 7208 6.2).
        let softfailed = await verdict(records, ip: "198.51.100.3")
        #expect(softfailed.result == .softfail)
        #expect(softfailed.explanation == nil)
    }

    @Test(arguments: [
        [("why.sender.test", txt("one")), ("why.sender.test", txt("two"))],
        [("why.sender.test", txt("bad %{x} macro"))],
        [("why.sender.test", RecordData.a(address("192.0.2.1")))],
    ])
    func unusableExplanationIsIgnored(extra: [(String, RecordData)]) async {
        let records = [("sender.test", txt("v=spf1 -all exp=why.sender.test"))] + extra
        let result = await verdict(records, ip: "192.0.2.3")
        #expect(result.result == .fail)
        #expect(result.explanation == nil)
    }

    @Test func explanationDNSErrorIsIgnored() async {
        let records = [("sender.test", txt("v=spf1 -all exp=why.sender.test"))]
        let result = await verdict(records, faults: ["why.sender.test": .timeout], ip: "192.0.2.3")
        #expect(result.result == .fail)
        #expect(result.explanation == nil)
    }

    @Test func redirectUsesTheTargetsExplanationAndIncludeIgnoresTheIncluded() async {
        let records: [(String, RecordData)] = [
            ("sender.test", txt("v=spf1 exp=mine.sender.test redirect=other.test")),
            ("other.test", txt("v=spf1 include:inner.test -all exp=theirs.other.test")),
            ("inner.test", txt("v=spf1 -all exp=inner-why.inner.test")),
            ("mine.sender.test", txt("from sender.test")),
            ("theirs.other.test", txt("from other.test")),
            ("inner-why.inner.test", txt("from inner.test")),
        ]
        let result = await verdict(records, ip: "192.0.2.3")
        #expect(result.result == .fail)
        #expect(result.explanation == "from other.test")
    }
}
