import Scenario
import Testing
@testable import Postfix
import Runner

/// The key records the milters read otherwise than the built-in verifier where the decision milter
/// cannot put it right: skipped on Postfix with the reason.
@Suite struct PostfixMilterLimitsTests {
    static func scenario(policy: String, dkim: String, extra: String = "", faults: Bool = false) throws
        -> ScenarioCase
    {
        let text = """
            dns:\(faults ? "\n  faults: [{name: unrelated.test, fault: servfail}]" : "")
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10\(extra.isEmpty ? "" : "\n    - " + extra)
            receiver: {addresses: [192.0.2.10], policy: \(policy)}
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: alice@sender.test
              rcpt_to: [bob@example.test]
              dkim: {selector: s1\(dkim)}
            expect: {outcome: delivered}
            """
        return try #require(try ScenarioLoader().load(yaml: text, file: "p.yaml").first)
    }

    /// The decision milter reads the key and DMARC records (`MilterDecision`): only a `dmarc` check
    /// over a `t=y` record in a world with `dns.faults` (its DMARC record then uncertain) still skips.
    @Test func onlyATestingRecordUnderADMARCCheckWithFaultsIsSkipped() throws {
        for policy in ["{checks: [dkim]}", "gmail-like", "microsoft-like-dkim", "{checks: [dkim, dmarc]}"] {
            for record in [", record: testing", ", record: truncated"] {
                #expect(
                    postfixMilterLimit(of: try Self.scenario(policy: policy, dkim: record)) == nil,
                    "\(policy)\(record) runs on Postfix")
            }
        }
        let testing = try #require(
            postfixMilterLimit(
                of: try Self.scenario(policy: "{checks: [dmarc]}", dkim: ", record: testing", faults: true)))
        #expect(testing.contains("t=y") && testing.contains("dns.faults") && testing.hasSuffix("builtin only"))
        #expect(
            postfixMilterLimit(
                of: try Self.scenario(policy: "{checks: [dkim, dmarc]}", dkim: ", record: truncated", faults: true))
                == nil, "OpenDMARC counts OpenDKIM's temperror as no DKIM pass, as the model counts a permerror")
        #expect(
            postfixMilterLimit(of: try Self.scenario(policy: "fcrdns", dkim: ", record: testing", faults: true)) == nil,
            "no DKIM check: nothing to skip")
    }

    @Test func aKeyRecordTheScenarioWritesWithTheTestFlagIsSkippedToo() throws {
        let written = try Self.scenario(
            policy: "{checks: [dmarc]}", dkim: "",
            extra:
                "s1._domainkey.sender.test. TXT \"v=DKIM1; k=ed25519; t=s:y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"",
            faults: true)
        #expect(postfixMilterLimit(of: written)?.contains("s1._domainkey.sender.test") == true)
        #expect(hasTestFlag("v=DKIM1; t = y ; p=abc"))
        #expect(!hasTestFlag("v=DKIM1; t=s; p=y"))
    }
}
