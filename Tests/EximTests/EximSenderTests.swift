import Exim
import Foundation
import MXHarnessTestKit
import ModelProxy
import Runner
import RunnerTestKit
import Scenario
import Testing

/// Exim 4 (unpacked by scripts/lib.sh `unpack_mtas exim`) as the sending MTA.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && EximSendingMTA.unavailableReason() == nil,
        "needs root, unbound and Exim unpacked by scripts/lib.sh's unpack_mtas exim (scripts/test does it)"))
struct EximSenderTests {
    /// Exim has no session limit: with two equal-preference MX hosts deferring IPv6 it goes on to
    /// IPv4 and delivers, where Postfix (and the model) defer.
    @Test func twoEqualMXDeliverOverIPv4WithExim() async throws {
        let expect =
            "{outcome: delivered, family: ipv4, attempts: [{family: ipv6, result: tempfailed, code: 450, stage: rcpt}, {family: ipv6, result: tempfailed, code: 450, stage: rcpt}, {family: ipv4, result: accepted}]}"
        let scenario = try twoEqualMX("exim-two-mx", target: "builtin", expect: expect)
        let runner = CaseRunner(
            configuration: RunConfiguration(sender: .exim), parts: builtinParts.adding(EximSenders()))
        let result = try #require(await ScenarioRun(runner: runner, jobs: 1).run([scenario]).first)
        #expect(result.sender == .exim)
        #expect(result.status == .passed, "\(result.status) \(result.mismatches)")
        if let name = result.namespaceName { #expect(!FileManager.default.fileExists(atPath: "/etc/netns/\(name)")) }
    }

    /// The identities theme through the harness's relay (`sender.proxy: model`): Exim pipelines
    /// QUIT after the final dot and shuts its side of the socket, and the relay passes that FIN on
    /// instead of closing both sides, so Exim still reads the 250 (it once logged "Remote host
    /// closed connection in response to end of data" and deferred every delivered case).
    @Test func theIdentitiesThemePassesThroughTheRelay() async throws {
        let theme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/identities").path
        let cases = try ScenarioLoader(kinds: builtinKinds).load(paths: [theme]).filter {
            $0.sender.identity.usesProxy && $0.sender.proxy == .model
        }
        #expect(cases.contains { $0.expect.outcome == .delivered })
        let runner = CaseRunner(
            configuration: RunConfiguration(sender: .exim),
            parts: builtinParts.adding(EximSenders()).adding(ModelProxies()))
        for result in await ScenarioRun(runner: runner, jobs: 2).run(cases) {
            #expect(result.status == .passed, "\(result.name): \(result.status) \(result.mismatches)")
        }
    }

    /// `sender.relay: {host: NAME}`: the named host's addresses, not the domain's MX (which
    /// listens nowhere), IPv6 first from a dual-stack sender, IPv4 from an IPv4-only one.
    @Test func theRelayHostIsReachedOverEitherFamily() async throws {
        func relayCase(_ name: String, dualStack: Bool) throws -> ScenarioCase {
            let yaml = """
                name: \(name)
                dns:
                  records:
                    - example.test. MX 10 elsewhere.example.test.
                    - elsewhere.example.test. A 192.0.2.99
                    - relay.example.test. A 192.0.2.10
                    - relay.example.test. AAAA 2001:db8::10
                    - mail.sender.test. A 203.0.113.25
                    - mail.sender.test. AAAA 2001:db8:5::25
                    - 203.0.113.25 PTR mail.sender.test.
                    - 2001:db8:5::25 PTR mail.sender.test.
                receiver:
                  hostname: relay.example.test
                  addresses: [192.0.2.10, "2001:db8::10"]
                  target: builtin
                  policy: open
                sender:
                  addresses: \(dualStack ? #"{ipv4: 203.0.113.25, ipv6: "2001:db8:5::25"}"# : "{ipv4: 203.0.113.25}")
                  helo: mail.sender.test
                  mail_from: a@sender.test
                  rcpt_to: [b@example.test]
                  relay: {host: relay.example.test}
                expect:
                  outcome: delivered
                  family: \(dualStack ? "ipv6" : "ipv4")
                  stage: data
                  code: 250
                """
            return try #require(
                try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "/tmp/\(name).yaml").first)
        }
        let runner = CaseRunner(
            configuration: RunConfiguration(sender: .exim), parts: builtinParts.adding(EximSenders()))
        let results = await ScenarioRun(runner: runner, jobs: 1).run([
            try relayCase("exim-relay-dual", dualStack: true), try relayCase("exim-relay-v4", dualStack: false),
        ])
        #expect(results.count == 2)
        for result in results {
            #expect(result.sender == .exim)
            #expect(result.status == .passed, "\(result.name): \(result.status) \(result.mismatches)")
        }
    }

    @Test func aPreferenceEximCannotExpressIsSkippedWithTheReason() async throws {
        let scenario = try twoEqualMX(
            "exim-any", target: "builtin", postfix: "{smtp_address_preference: any}", expect: "{outcome: delivered}")
        let runner = CaseRunner(
            configuration: RunConfiguration(sender: .exim), parts: builtinParts.adding(EximSenders()))
        let result = try #require(await ScenarioRun(runner: runner, jobs: 1).run([scenario]).first)
        guard case .skipped(let reason) = result.status else {
            Issue.record("expected skipped, got \(result.status)")
            return
        }
        #expect(reason.contains("no Exim equivalent"))
    }
}
