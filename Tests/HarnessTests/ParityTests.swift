import Harness
import Reports
import Runner
import Scenario
import SMTPProtocol
import Testing

/// Parity across several receivers: which differences fail it and which are MTA differences.
@Suite struct ParityTests {
    static let scenario: ScenarioCase = {
        let yaml = """
            name: c
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10"]}
            receiver: {addresses: [192.0.2.10]}
            sender: {addresses: {ipv4: 203.0.113.25}, helo: h.example.test, mail_from: a@example.test, rcpt_to: b@example.test}
            expect: {outcome: delivered}
            """
        return try! ScenarioLoader().load(yaml: yaml, file: "c.yaml")[0]
    }()

    static func result(_ target: ReceiverTarget, _ outcome: DeliveryOutcome, _ stage: SMTPStage, _ code: Int, _ enhanced: String, _ text: String) -> CaseResult {
        var result = CaseResult(scenario: scenario, target: target, status: .passed)
        result.observed = ObservedDelivery(outcome: outcome, family: .ipv4, stage: stage, reply: SMTPReply(code: code, enhanced: enhanced, text))
        return result
    }

    static func skipped(_ target: ReceiverTarget, _ reason: String) -> CaseResult {
        CaseResult(scenario: scenario, target: target, status: .skipped(reason))
    }

    @Test func exactReplyDifferencesAreMTADifferencesNotFailures() {
        let row = ParityRow(name: "c", results: [
            (.builtin, Self.result(.builtin, .deferred, .rcpt, 450, "4.7.25", "Client host rejected: cannot find your hostname, [203.0.113.25]")),
            (.exim, Self.result(.exim, .deferred, .rcpt, 451, "4.7.25", "Client host rejected: cannot find your hostname, [203.0.113.25]")),
            (.opensmtpd, Self.result(.opensmtpd, .deferred, .rcpt, 450, "4.7.25", "Client host rejected: cannot find your hostname")),
        ])
        #expect(row.differences.isEmpty)
        #expect(row.mtaDifferences == ["code", "text"])
        let text = Harness.renderParity([row], targets: [.builtin, .exim, .opensmtpd], terminal: Terminal(colour: false))
        #expect(text.contains("c (code, text): builtin: 450 4.7.25"), "\(text)")
        #expect(text.contains("0 different"))
    }

    @Test func aClassDifferenceFailsAndNamesTheFields() {
        let row = ParityRow(name: "c", results: [
            (.builtin, Self.result(.builtin, .deferred, .rcpt, 450, "4.7.1", "x")),
            (.postfix, Self.result(.postfix, .deferred, .rcpt, 450, "4.7.1", "x")),
            (.opensmtpd, Self.result(.opensmtpd, .bounced, .rcpt, 550, "5.7.1", "x")),
        ])
        #expect(row.differences == ["outcome", "code class"])
        let text = Harness.renderParity([row], targets: [.builtin, .postfix, .opensmtpd], terminal: Terminal(colour: false))
        #expect(text.contains("DIFFERENT: outcome, code class"))
    }

    @Test func skippedTargetsAreLeftOutAndListedWithTheirReasons() {
        let row = ParityRow(name: "c", results: [
            (.builtin, Self.result(.builtin, .delivered, .data, 250, "2.0.0", "Ok: queued as S1Q1")),
            (.postfix, Self.result(.postfix, .delivered, .data, 250, "2.0.0", "Ok: queued as 8000BF823E8")),
            (.exim, Self.skipped(.exim, "check spf needs SPF")),
        ])
        #expect(row.differences.isEmpty)
        #expect(row.mtaDifferences.isEmpty, "queue IDs differ in every run")
        #expect(row.ran.count == 2)
        let text = Harness.renderParity([row], targets: [.builtin, .postfix, .exim], terminal: Terminal(colour: false))
        #expect(text.contains("c on exim: check spf needs SPF"))
        let alone = ParityRow(name: "c", results: [(.builtin, Self.result(.builtin, .delivered, .data, 250, "2.0.0", "x")), (.exim, Self.skipped(.exim, "r"))])
        #expect(alone.differences.isEmpty)
    }
}
