import DNSCore
import Logging
import Scenario
@testable import Harness
import MXHarnessTestKit
import Testing

@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct WorldReportTests {
    @Test func everyNameWithWhatItAnswers() async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                "alias.example.test. CNAME mx.example.test.",
            ]),
            faults: [
                DNSFault(name: "broken.example.test", kind: .servfail),
                DNSFault(name: "gone.example.test", kind: .nxdomain),
            ],
            reverse: .auto)
        let text = try await WorldFixture.withWorld(spec) { await WorldReport.render(spec, resolver: $0.resolver) }
        let expected = """
            example.test.
              MX    10 mx.example.test.
            mx.example.test.
              AAAA  2001:db8::10
            alias.example.test.
              AAAA  2001:db8::10
              CNAME mx.example.test.
            \(IPAddress("2001:db8::10")!.reverseName).
              PTR   mx.example.test.
            broken.example.test.
              SERVFAIL (every type)
            gone.example.test.
              NXDOMAIN
            """
        #expect(text == expected)
    }
}

/// `dns check` on a signed world: each name's zone and state, and each answer's security as a
/// validating resolver sees it, with the reason and the validating unbound's extended error.
@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct SignedWorldReportTests {
    @Test func eachAnswerSaysItsSecurity() async throws {
        let yaml = """
            dns:
              dnssec: signed
              zones: [{zone: example.test, state: expired}, {zone: unsigned.test, state: insecure}]
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "mail.sender.test. AAAA 2001:db8:5::25", "www.unsigned.test. A 192.0.2.1"]
            receiver: {addresses: ["2001:db8::10"]}
            sender: {addresses: {ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
            expect: {}
            """
        let scenario = try #require(try ScenarioLoader().load(yaml: yaml, file: "signed.yaml").first)
        let world = try await StandaloneWorld.start(
            scenario, timeout: .milliseconds(800), logger: Logger(label: "test"))
        let text = await WorldReport.render(scenario.dns, resolver: world.resolver, security: world.security)
        await world.stop()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("example.test.  (zone example.test., expired)"), "\(text)")
        #expect(
            lines.contains {
                $0.hasPrefix(
                    "  MX    10 mx.example.test.  [bogus: validating resolvers answer SERVFAIL (validation failure <example.test. MX IN>: signature expired"
                ) && $0.contains("EDE 7 Signature Expired")
            }, "\(text)")
        #expect(lines.contains("mail.sender.test.  (zone test., secure)"), "\(text)")
        #expect(lines.contains("  AAAA  2001:db8:5::25  [secure]"), "\(text)")
        #expect(lines.contains("www.unsigned.test.  (zone unsigned.test., insecure)"), "\(text)")
        #expect(lines.contains("  A     192.0.2.1  [insecure]"), "\(text)")
    }
}
