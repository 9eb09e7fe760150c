import DNSCore
import RunnerTestKit
import Scenario
import Sender
import Testing
@testable import Runner

/// `sender.dkim` before a case's world starts: the key made, its record put into the world
/// unless the scenario wrote one, and the record's breakage applied.
@Suite struct DKIMPreparationTests {
    static let yaml = """
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. A 192.0.2.10
        receiver: {addresses: [192.0.2.10]}
        sender:
          addresses: {ipv4: 203.0.113.25}
          helo: mail.sender.test
          mail_from: alice@sender.test
          rcpt_to: [bob@example.test]
          dkim: {selector: s1, algorithm: ed25519-sha256, RECORD}
        expect: {outcome: delivered}
        """

    static func prepared(_ record: String, extra: String = "") throws -> ScenarioCase {
        var text = yaml.replacingOccurrences(of: ", RECORD", with: record)
        if !extra.isEmpty {
            text = text.replacingOccurrences(
                of: "    - mx.example.test. A 192.0.2.10\n",
                with: "    - mx.example.test. A 192.0.2.10\n    - \(extra)\n")
        }
        let scenario = try #require(try ScenarioLoader(kinds: builtinKinds).load(yaml: text, file: "p.yaml").first)
        #expect(scenario.sender.dkim?.key == nil)
        return try scenario.preparingDKIM()
    }

    static func keyRecords(_ scenario: ScenarioCase, at name: String = "s1._domainkey.sender.test") -> [String] {
        scenario.dns.records.filter { $0.owner == name && $0.type == .txt }.compactMap(\.data.text)
    }

    @Test func theKeyRecordIsPublishedAndTheMessageSigned() throws {
        let scenario = try Self.prepared("")
        let key = try #require(scenario.sender.dkim?.key)
        #expect(Self.keyRecords(scenario) == [key.keyRecord()])
        let message = String(decoding: scenario.sender.messageBytes(), as: UTF8.self)
        #expect(message.hasPrefix("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=sender.test; s=s1; "))
    }

    @Test func aRecordTheScenarioWritesIsKept() throws {
        let scenario = try Self.prepared("", extra: #"s1._domainkey.sender.test. TXT "v=DKIM1; p=""#)
        #expect(Self.keyRecords(scenario) == ["v=DKIM1; p="])
    }

    @Test func recordModes() throws {
        #expect(Self.keyRecords(try Self.prepared(", record: none")).isEmpty)
        #expect(Self.keyRecords(try Self.prepared(", record: revoked")) == ["v=DKIM1; k=ed25519; p="])
        #expect(Self.keyRecords(try Self.prepared(", record: testing")).first?.contains("; t=y; p=") == true)
        let full = try Self.prepared("")
        let truncated = try #require(Self.keyRecords(try Self.prepared(", record: truncated")).first)
        #expect(truncated.count <= 255 && truncated.count <= (Self.keyRecords(full).first?.count ?? 0) - 40)
        let moved = try Self.prepared(", record_selector: old")
        #expect(Self.keyRecords(moved).isEmpty)
        #expect(Self.keyRecords(moved, at: "old._domainkey.sender.test").count == 1)
    }
}

@Suite struct DKIMSenderMTATests {
    /// The runner leaves signing to the sender kind: one that cannot sign a case's `sender.dkim`
    /// skips it with its own reason, before any sender is made.
    @Test func aSenderKindThatCannotSignSkipsSignedCasesWithItsReason() async throws {
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(
                yaml: DKIMPreparationTests.yaml.replacingOccurrences(of: ", RECORD", with: ""), file: "p.yaml"
            ).first)
        #expect(scenario.sender.dkim != nil)
        let parts = builtinParts.adding(PostfixSenderStandIn())
        let result = await CaseRunner(configuration: RunConfiguration(target: .builtin, sender: .postfix), parts: parts)
            .run(scenario)
        guard case .skipped(let reason) = result.status else {
            Issue.record("expected skipped, got \(result.status)")
            return
        }
        #expect(reason == PostfixSenderStandIn.cannotSign)
    }
}

/// A sender kind named postfix that cannot sign: a signed case must be skipped before it sends.
struct PostfixSenderStandIn: SenderKind {
    static let cannotSign = "sender.dkim: this stand-in sender does not sign"
    var mta: SenderMTA { .postfix }
    func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        scenario.sender.dkim == nil ? nil : Self.cannotSign
    }
    func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        Issue.record("a signed case reached makeSender of a sender kind that cannot sign")
        return ModelSenders().makeSender(for: scenario, settings: settings)
    }
}
