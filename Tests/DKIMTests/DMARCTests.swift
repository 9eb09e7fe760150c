import DNSCore
@testable import DKIM
import MXHarnessTestKit
import Testing

@Suite struct DMARCTests {
    static func passing(_ domain: String) -> DKIMVerification {
        DKIMVerification(
            result: .pass, domain: domain, selector: "sel", algorithm: "ed25519-sha256", reason: "verified")
    }

    static func message(from: String) -> [UInt8] {
        Array("From: Joe <joe@\(from)>\r\nTo: a@b.test\r\nSubject: x\r\n\r\nbody\r\n".utf8)
    }

    static func evaluate(
        _ records: [(String, String)], from: String = "sender.test", spf: Bool = false,
        spfDomain: String = "other.test",
        dkim: [DKIMVerification] = [], faults: [String: InMemoryDNS.Fault] = [:], sample: Int? = nil
    ) async -> DMARCEvaluation {
        let dns = InMemoryDNS(
            records.map { ($0.0, txt($0.1)) } + [("sender.test", .a(IPAddress("192.0.2.1")!))], faults: faults)
        return await DMARCEvaluator(lookup: dns).evaluate(
            message: message(from: from), spfPassed: spf, spfDomain: spfDomain, dkim: dkim, sample: sample)
    }

    @Test func organisationalDomainRule() {
        #expect(OrganizationalDomain.of("mail.sender.test") == "sender.test")
        #expect(OrganizationalDomain.of("sender.test") == "sender.test")
        #expect(OrganizationalDomain.of("a.b.example.co.uk") == "example.co.uk")
        #expect(OrganizationalDomain.of("Mail.Sender.Test.") == "sender.test")
        #expect(OrganizationalDomain.aligned("mail.sender.test", "sender.test", mode: .relaxed))
        #expect(!OrganizationalDomain.aligned("mail.sender.test", "sender.test", mode: .strict))
    }

    @Test func recordParsing() throws {
        let record = try DMARCRecord(text: "v=DMARC1; p=reject; sp=quarantine; adkim=s; pct=20")
        #expect(
            record.policy == .reject && record.subdomainPolicy == .quarantine && record.dkimAlignment == .strict
                && record.spfAlignment == .relaxed && record.percent == 20)
        #expect(try DMARCRecord(text: "v=DMARC1; p=bogus; rua=mailto:a@b.test").policy == .none)
        #expect(throws: DMARCRecordError.notDMARC) { try DMARCRecord(text: "p=reject; v=DMARC1") }
        #expect(throws: DMARCRecordError.syntax(.missingTag("p"))) { try DMARCRecord(text: "v=DMARC1") }
        #expect(
            throws: DMARCRecordError.syntax(
                .badValue(tag: "pct", value: "101", expected: "a whole number from 0 to 100"))
        ) { try DMARCRecord(text: "v=DMARC1; p=none; pct=101") }
    }

    @Test func alignedDKIMPasses() async {
        let result = await Self.evaluate(
            [("_dmarc.sender.test", "v=DMARC1; p=reject")], dkim: [Self.passing("mail.sender.test")])
        #expect(result.result == .pass)
        #expect(result.reason.contains("DKIM d=mail.sender.test aligned"))
        let strict = await Self.evaluate(
            [("_dmarc.sender.test", "v=DMARC1; p=reject; adkim=s")], dkim: [Self.passing("mail.sender.test")])
        #expect(strict.result == .fail && strict.disposition == .reject)
        #expect(strict.reason.contains("not aligned"))
    }

    @Test func alignedSPFPasses() async {
        #expect(
            await Self.evaluate(
                [("_dmarc.sender.test", "v=DMARC1; p=reject")], spf: true, spfDomain: "bounce.sender.test"
            ).result == .pass)
        #expect(
            await Self.evaluate(
                [("_dmarc.sender.test", "v=DMARC1; p=reject; aspf=s")], spf: true, spfDomain: "bounce.sender.test"
            ).result == .fail)
        #expect(
            await Self.evaluate([("_dmarc.sender.test", "v=DMARC1; p=reject")], spf: true, spfDomain: "other.test")
                .result == .fail)
    }

    @Test func discoveryFallsBackToTheOrganisationalDomainWithSp() async {
        let result = await Self.evaluate(
            [("_dmarc.sender.test", "v=DMARC1; p=reject; sp=quarantine")], from: "news.sender.test")
        #expect(result.result == .fail && result.disposition == .quarantine && result.recordDomain == "sender.test")
        let own = await Self.evaluate(
            [("_dmarc.news.sender.test", "v=DMARC1; p=none"), ("_dmarc.sender.test", "v=DMARC1; p=reject")],
            from: "news.sender.test")
        #expect(own.disposition == .none && own.recordDomain == "news.sender.test")
    }

    @Test func noRecordOrTwoRecordsIsNone() async {
        #expect(await Self.evaluate([]).result == .none)
        let two = await Self.evaluate([
            ("_dmarc.sender.test", "v=DMARC1; p=reject"), ("_dmarc.sender.test", "v=DMARC1; p=none"),
        ])
        #expect(two.result == .none)
    }

    @Test func pctSamplesTheFailures() async {
        let records = [("_dmarc.sender.test", "v=DMARC1; p=reject; pct=30")]
        #expect(await Self.evaluate(records, sample: 29).disposition == .reject)
        #expect(await Self.evaluate(records, sample: 30).disposition == .none)
    }

    @Test func dnsTroubleIsTemporary() async {
        #expect(
            await Self.evaluate(
                [("_dmarc.sender.test", "v=DMARC1; p=reject")], faults: ["_dmarc.sender.test": .servfail]
            ).result == .temperror)
    }

    /// `evaluateHeld` gives `evaluate`'s answer without waiting when the lookup holds every answer
    /// (the Postfix decision milter's world), and nothing when it does not.
    @Test(arguments: [
        ("sender.test", "v=DMARC1; p=reject", [String: InMemoryDNS.Fault]()),
        ("news.sender.test", "v=DMARC1; p=none; sp=reject", [:]),
        ("news.sender.test", "v=DMARC1; p=reject; sp=none", [:]),
        ("sender.test", "v=DMARC1; p=reject", ["_dmarc.sender.test": .servfail]),
        ("news.sender.test", "v=DMARC1; p=reject", ["_dmarc.news.sender.test": .nxdomain]),
        ("news.sender.test", "v=DMARC1; p=reject", ["_dmarc.news.sender.test": .timeout]),
    ])
    func aHeldEvaluationIsTheSameEvaluation(from: String, record: String, faults: [String: InMemoryDNS.Fault]) async {
        let records = [ResourceRecord(owner: "_dmarc.sender.test", data: txt(record))]
        let held = InMemoryDNS(records: records, faults: faults, holdsAnswers: true)
        let waited = await DMARCEvaluator(lookup: held).evaluate(
            message: Self.message(from: from), spfPassed: false, spfDomain: from, dkim: [], sample: 0)
        let now = DMARCEvaluator(lookup: held).evaluateHeld(
            message: Self.message(from: from), spfPassed: false, spfDomain: from, dkim: [], sample: 0)
        #expect(now == waited)
        let notHeld = InMemoryDNS(records: records, faults: faults)
        #expect(
            DMARCEvaluator(lookup: notHeld).evaluateHeld(
                message: Self.message(from: from), spfPassed: false, spfDomain: from, dkim: [], sample: 0) == nil)
    }

    /// A subdomain author under the organisational domain's record: sp= decides, not p=, whichever
    /// way it points (RFC 7489 6.3).
    @Test func spDecidesForASubdomainEitherWay() async {
        let reject = await Self.evaluate(
            [("_dmarc.sender.test", "v=DMARC1; p=none; sp=reject")], from: "news.sender.test")
        #expect(reject.result == .fail && reject.disposition == .reject && reject.recordDomain == "sender.test")
        let atItsOwn = await Self.evaluate([("_dmarc.sender.test", "v=DMARC1; p=none; sp=reject")])
        #expect(atItsOwn.result == .fail && atItsOwn.disposition == .none, "the organisational domain itself: p=")
    }

    @Test func authorDomain() {
        #expect(
            AuthorDomain.of(DKIMMessage(Array("From: \"A <b@c>\" <joe@Sender.Test>\r\n\r\n".utf8))) == "sender.test")
        #expect(AuthorDomain.of(DKIMMessage(Array("From: joe@sender.test\r\n\r\n".utf8))) == "sender.test")
        #expect(AuthorDomain.of(DKIMMessage(Array("From: a@x.test\r\nFrom: b@y.test\r\n\r\n".utf8))) == nil)
        #expect(AuthorDomain.of(DKIMMessage(Array("To: a@x.test\r\n\r\n".utf8))) == nil)
    }
}
