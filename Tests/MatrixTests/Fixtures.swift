import DNSCore
import Delivery
import Foundation
import Matrix
import Policy
import Runner
import SMTPProtocol
import Scenario
import Sender

/// Hand-made results and small scenarios for the matrix tests.
enum Fixtures {
    static let mx4 = IPAddress("192.0.2.10")!
    static let mx6 = IPAddress("2001:db8::10")!
    static let sender4 = IPAddress("203.0.113.25")!
    static let sender6 = IPAddress("2001:db8:5::25")!

    static func scenario(
        _ name: String, policy: ReceiverPolicy = Preset.fcrdns.policy, expect: Expectation = Expectation()
    ) -> ScenarioCase {
        ScenarioCase(
            name: name, description: "a case",
            location: SourceLocation(file: "Scenarios/fixture.yaml", line: 3, column: 1),
            dns: WorldSpec(), receiver: ReceiverSpec(addresses: [mx4, mx6], policy: policy),
            sender: SenderSpec(
                addresses: [.ipv4: sender4, .ipv6: sender6], helo: "mail.sender.test", mailFrom: "alice@sender.test",
                rcptTo: ["bob@example.test"]),
            expect: expect)
    }

    static let accepted = SMTPReply(code: 250, enhanced: "2.0.0", "Ok: queued as MXH7F3A1")
    static let deferredV6 = SMTPReply(
        code: 450, enhanced: "4.7.25", "Client host rejected: cannot find your hostname, [2001:db8:5::25]")
    static let rejectedV6 = SMTPReply(
        code: 550, enhanced: "5.7.25", "Client host rejected: cannot find your hostname, [2001:db8:5::25]")

    static func attempt(_ family: AddressFamily, _ result: AttemptResult, _ stage: SMTPStage, _ reply: SMTPReply?)
        -> DeliveryAttempt
    {
        let local = family == .ipv4 ? sender4 : sender6
        let remote = family == .ipv4 ? mx4 : mx6
        var transcript: [TranscriptLine] = []
        if let reply {
            transcript = [
                SMTPClientTranscriptLine(offset: 0, direction: .server, text: "220 mx.example.test ESMTP"),
                SMTPClientTranscriptLine(offset: 0.01, direction: .client, text: "RCPT TO:<bob@example.test>"),
                SMTPClientTranscriptLine(offset: 0.02, direction: .server, text: reply.description),
            ]
        }
        return DeliveryAttempt(
            family: family, localAddress: local, remoteAddress: remote, remoteHost: "mx.example.test", stage: stage,
            reply: reply, result: result,
            transcript: transcript, recipients: [])
    }

    /// A finished case whose delivery made `attempts`, the last one deciding with `outcome`.
    static func result(
        _ scenario: ScenarioCase, _ outcome: DeliveryOutcome, _ attempts: [DeliveryAttempt],
        status: CaseStatus = .passed, mismatches: [Mismatch] = []
    ) -> CaseResult {
        var result = CaseResult(scenario: scenario, target: .builtin, status: status)
        let deciding = attempts.last
        let report = DeliveryReport(
            outcome: outcome,
            recipients: [
                RecipientResult(
                    address: "bob@example.test", outcome: outcome, stage: deciding?.stage, reply: deciding?.reply,
                    attemptIndex: attempts.isEmpty ? nil : attempts.count - 1)
            ],
            attempts: attempts, decidingAttempt: attempts.isEmpty ? nil : attempts.count - 1, destinations: [],
            destinationSource: .mx, note: nil)
        result.delivery = report
        result.observed = ObservedDelivery(report)
        result.mismatches = mismatches
        return result
    }

    /// The dual-stack sender without an IPv6 PTR at a deferring receiver: 450 over IPv6, delivered over IPv4.
    static func fallback(_ scenario: ScenarioCase) -> CaseResult {
        result(
            scenario, .delivered,
            [attempt(.ipv6, .tempfailed, .rcpt, deferredV6), attempt(.ipv4, .accepted, .data, accepted)])
    }

    /// The same sender at a rejecting receiver: 550 over IPv6, bounced.
    static func bounce(_ scenario: ScenarioCase) -> CaseResult {
        result(scenario, .bounced, [attempt(.ipv6, .rejected, .rcpt, rejectedV6)])
    }

    static func delivered6(_ scenario: ScenarioCase) -> CaseResult {
        result(
            scenario, .delivered,
            [attempt(.ipv6, .accepted, .data, SMTPReply(code: 250, enhanced: "2.0.0", "Ok: queued as MXH99"))])
    }

    /// Two rows × two columns (fcrdns, fcrdns-strict): the fallback case differs, the good sender does not.
    static func matrix() -> Matrix {
        let columns = [PolicyColumn.preset(.fcrdns), PolicyColumn.preset(.fcrdnsStrict)]
        let dual = scenario("dual-stack <no> & \"ipv6 ptr\"")
        let good = scenario("good-sender", policy: Preset.fcrdnsStrict.policy)
        let results = [fallback(dual), bounce(dual), delivered6(good), delivered6(good)]
        return MatrixRunner.assemble(
            [dual, good], columns: columns, results: results, target: .builtin, receiverName: "the built-in MX")
    }

    /// A folder of its own under the temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "matrix-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The three fixture senders of the integration tests, each with its own expectation for its
    /// own policy (`fcrdns`): a dual-stack sender without an IPv6 PTR, a good dual-stack sender, an
    /// IPv4-only sender with forward-confirmed reverse DNS.
    static let fixtureScenarios: [String: String] = [
        "dual-stack-no-ipv6-ptr.yaml": """
        description: Dual-stack sender whose IPv6 address has no PTR; IPv4 reverse DNS is fine.
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. A 192.0.2.10
            - mx.example.test. AAAA 2001:db8::10
            - mail.sender.test. A 203.0.113.25
            - mail.sender.test. AAAA 2001:db8:5::25
            - 203.0.113.25 PTR mail.sender.test.
        receiver: {addresses: [192.0.2.10, "2001:db8::10"], policy: fcrdns}
        sender: {addresses: {ipv4: 203.0.113.25, ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: alice@sender.test, rcpt_to: [bob@example.test]}
        expect:
          outcome: delivered
          family: ipv4
          attempts: [{family: ipv6, result: tempfailed, code: 450}, {family: ipv4, result: accepted}]
        """,
        "good-sender.yaml": """
        description: Dual-stack sender with forward-confirmed reverse DNS on both families.
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. A 192.0.2.10
            - mx.example.test. AAAA 2001:db8::10
            - mail.sender.test. A 203.0.113.25
            - mail.sender.test. AAAA 2001:db8:5::25
            - 203.0.113.25 PTR mail.sender.test.
            - 2001:db8:5::25 PTR mail.sender.test.
        receiver: {addresses: [192.0.2.10, "2001:db8::10"], policy: fcrdns}
        sender: {addresses: {ipv4: 203.0.113.25, ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: alice@sender.test, rcpt_to: [bob@example.test]}
        expect: {outcome: delivered, family: ipv6}
        """,
        "ipv4-only-sender.yaml": """
        description: IPv4-only sender with forward-confirmed reverse DNS.
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. A 192.0.2.10
            - mx.example.test. AAAA 2001:db8::10
            - mail.sender.test. A 203.0.113.25
            - 203.0.113.25 PTR mail.sender.test.
        receiver: {addresses: [192.0.2.10, "2001:db8::10"], policy: fcrdns}
        sender: {addresses: {ipv4: 203.0.113.25}, helo: mail.sender.test, mail_from: alice@sender.test, rcpt_to: [bob@example.test]}
        expect: {outcome: delivered, family: ipv4}
        """,
    ]

    /// Writes the fixture scenarios into `directory`.
    static func writeFixtureScenarios(into directory: String) throws {
        for (name, text) in fixtureScenarios {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
    }
}
