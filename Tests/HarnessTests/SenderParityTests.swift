import DNSCore
import Harness
import Reports
import Runner
import Scenario
import SMTPProtocol
import Testing

/// `mxharness parity --sender`: which fields count as a difference, and the table showing both
/// attempt lists for a differing case (no sockets: hand-made results).
@Suite struct SenderParityTests {
    static let scenario = ScenarioCase(
        name: "two-mx", location: SourceLocation(file: "two-mx.yaml", line: 1, column: 1), dns: WorldSpec(records: []),
        receiver: ReceiverSpec(hostname: "mx.example.test", addresses: [IPAddress("192.0.2.11")!]),
        sender: SenderSpec(addresses: [.ipv4: IPAddress("203.0.113.25")!], helo: "mail.sender.test", mailFrom: "a@sender.test", rcptTo: ["b@example.test"]),
        expect: Expectation())

    static func result(_ outcome: DeliveryOutcome, family: AddressFamily, code: Int, attempts: [(AddressFamily, AttemptResult)]) -> CaseResult {
        var result = CaseResult(scenario: scenario, target: .builtin, status: .passed)
        result.observed = ObservedDelivery(
            outcome: outcome, family: family, stage: code == 250 ? .data : .rcpt, reply: SMTPReply(code: code, "x"),
            attempts: attempts.map { ObservedAttempt(family: $0.0, result: $0.1, stage: $0.1 == .accepted ? .data : .rcpt, reply: nil) })
        return result
    }

    @Test func theSameVerdictAndAttemptsAreNoDifference() {
        let a = Self.result(.deferred, family: .ipv6, code: 450, attempts: [(.ipv6, .tempfailed), (.ipv6, .tempfailed)])
        #expect(SenderParityRow(name: "two-mx", model: a, real: a).differences.isEmpty)
    }

    @Test func aDifferenceShowsBothAttemptLists() {
        let model = Self.result(.deferred, family: .ipv6, code: 450, attempts: [(.ipv6, .tempfailed), (.ipv6, .tempfailed)])
        let real = Self.result(.delivered, family: .ipv4, code: 250, attempts: [(.ipv6, .tempfailed), (.ipv6, .tempfailed), (.ipv4, .accepted)])
        let row = SenderParityRow(name: "two-mx", model: model, real: real)
        #expect(row.differences == ["outcome", "family", "stage", "code", "attempts"])
        let text = Harness.renderSenderParity([row], sender: .exim, terminal: Terminal(colour: false))
        #expect(text.contains("DIFFERENT: outcome, family, stage, code, attempts"))
        #expect(text.contains("builtin: deferred ipv6 rcpt 450 -; attempts: ipv6 tempfailed rcpt -, ipv6 tempfailed rcpt -"))
        #expect(text.contains("exim: delivered ipv4 data 250 -; attempts: ipv6 tempfailed rcpt -, ipv6 tempfailed rcpt -, ipv4 accepted data -"))
        #expect(text.contains("sender parity (exim): 0 same, 1 different, 0 skipped"))
    }

    @Test func onlyAttemptListsDifferingIsADifference() {
        let model = Self.result(.delivered, family: .ipv4, code: 250, attempts: [(.ipv4, .accepted)])
        let real = Self.result(.delivered, family: .ipv4, code: 250, attempts: [(.ipv6, .unreachable), (.ipv4, .accepted)])
        #expect(SenderParityRow(name: "x", model: model, real: real).differences == ["attempts"])
    }

    @Test func aSkippedSideIsNotCompared() {
        let model = Self.result(.delivered, family: .ipv4, code: 250, attempts: [(.ipv4, .accepted)])
        var real = model
        real.status = .skipped("Exim is not unpacked")
        let row = SenderParityRow(name: "x", model: model, real: real)
        #expect(row.differences.isEmpty)
        #expect(row.skippedReason == "real sender: Exim is not unpacked")
    }
}
