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
        let cases = try ScenarioLoader().load(paths: [theme]).filter {
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
