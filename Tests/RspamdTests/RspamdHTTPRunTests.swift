import DNSCore
import Foundation
import Logging
import MXHarnessTestKit
import NIOPosix
import Rspamd
import Runner
import RunnerTestKit
import Sandbox
import Scenario
import Testing

/// rspamd's processes started with a configuration under `directory`.
private func rspamdProcesses(under directory: String) -> [LiveProcess] {
    LiveProcess.mentioning("--var=LOCAL_CONFDIR=" + directory)
}

/// The real rspamd asked over HTTP: a normal worker in a namespace, the built-in MX's way.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && RspamdSetup.detect().missingReason == nil,
        "needs root (network namespaces), unbound and rspamd (apt-get install unbound rspamd); run as root"))
struct RspamdHTTPRunTests {
    /// What the request says is what rspamd scores: the same message from a client whose name was
    /// confirmed scores without rspamd's hostname rules when `Hostname` is given, and with them
    /// when it is left out (Postfix's `unknown`). Nothing of rspamd is left after `stop`.
    @Test func theFactsOfTheRequestAreWhatRspamdScores() async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "mail.sender.test. AAAA 2001:db8:5::25", "2001:db8:5::25 PTR mail.sender.test.",
                "sender.test. MX 10 mail.sender.test.", "sender.test. TXT \"v=spf1 ip6:2001:db8:5::25 -all\"",
            ]))
        try await WorldFixture.withWorld(spec) { fixture in
            let setup = RspamdSetup.detect()
            let configuration = RspamdConfiguration(
                actions: ["reject": 4, "soft_reject": 3, "add_header": 2, "greylist": 1], dnsTimeoutSeconds: 1,
                nameserver: fixture.world.resolverAddress.description, directory: fixture.directory + "/rspamd",
                cacheDirectory: setup.cacheDirectory, interface: .http)
            let daemon = try await RspamdDaemon.start(
                configuration, setup: setup, in: fixture.namespace, logger: Logger(label: "test"))
            let group = MultiThreadedEventLoopGroup.singleton
            let message = Array(
                ("From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: test\r\n"
                    + "Message-ID: <m1@sender.test>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n").utf8)
            var check = RspamdCheck(
                client: "2001:db8:5::25", hostname: "mail.sender.test", helo: "mail.sender.test",
                mailFrom: "alice@sender.test", recipients: ["bob@example.test"], queueID: "T1",
                mtaName: "mx.example.test", message: message)
            let named = try await RspamdClient.check(
                check, in: fixture.namespace, eventLoopGroup: group, timeout: .seconds(30)
            ).get()
            check.hostname = nil
            check.queueID = "T2"
            let unnamed = try await RspamdClient.check(
                check, in: fixture.namespace, eventLoopGroup: group, timeout: .seconds(30)
            ).get()
            let unreachable = await RspamdClient.check(
                check, port: 1, in: fixture.namespace, eventLoopGroup: group, timeout: .seconds(30))
            let scans = daemon.scans
            await daemon.stop()

            #expect(named.action == "no action", "\(named)")
            #expect(named.symbols.contains { $0.name == "R_SPF_ALLOW" }, "\(named)")
            #expect(!named.symbols.contains { $0.name == "HFILTER_HOSTNAME_UNKNOWN" }, "\(named)")
            #expect(unnamed.symbols.contains { $0.name == "HFILTER_HOSTNAME_UNKNOWN" && $0.score == 2.5 }, "\(unnamed)")
            #expect(abs(unnamed.score - (named.score + 2.5)) < 0.001, "\(named) / \(unnamed)")
            #expect(unnamed.requiredScore == 4)
            // The worker logs each scan as the milter's proxy does, with the queue id it was given.
            #expect(scans.map(\.queueID) == ["T1", "T2"])
            #expect(scans.map(\.score) == [named.score, unnamed.score])
            guard case .failure(.unreachable) = unreachable else {
                Issue.record("a port nothing listens on answered: \(unreachable)")
                return
            }
            #expect(rspamdProcesses(under: configuration.directory).isEmpty, "rspamd outlived stop()")
        }
    }

    /// A case on the built-in MX with `engines: [rspamd]`: the verdict is rspamd's, answered as its
    /// milter has Postfix answer (RspamdRunTests in PostfixTests runs the same sender on Postfix),
    /// its score and symbols are in the evidence, and nothing of rspamd is left afterwards.
    @Test func theBuiltinMXAnswersRspamdsVerdictAsPostfixDoes() async throws {
        func scenario(_ thresholds: String, expect: String) throws -> ScenarioCase {
            let yaml = rspamdSPFWithoutIPv6(target: "builtin", thresholds: thresholds, expect: expect)
            return try #require(try ScenarioLoader().load(yaml: yaml, file: "rspamd.yaml").first)
        }
        let strict = try scenario(
            "  rspamd: {reject: 4, soft_reject: 3, add_header: 2, greylist: 1}",
            expect: "{outcome: bounced, stage: data, code: 554, enhanced: 5.7.1, text: Spam message rejected}")
        let soft = try scenario(
            "  rspamd: {reject: 5, soft_reject: 4, add_header: 2, greylist: 1}",
            expect: "{outcome: deferred, stage: data, code: 451, enhanced: 4.7.1, text: Try again later}")
        let lenient = try scenario("", expect: "{outcome: delivered, stage: data, code: 250, text: queued as}")
        var results: [CaseResult] = []
        for scenario in [strict, soft, lenient] { results.append(await runOne(scenario)) }
        for result in results {
            #expect(result.status == .passed, "\(result.name): \(result.status) \(result.mismatches)")
            let verdict = try #require(result.evidence?.engines.first, "\(result.name): no rspamd verdict")
            #expect(result.evidence?.engines.count == 1)
            #expect(verdict.engine == "rspamd")
            #expect(verdict.score == 4.4, "\(verdict)")
            #expect(verdict.symbols.map(\.name).starts(with: ["VIOLATED_DIRECT_SPF", "R_SPF_FAIL"]), "\(verdict)")
            let directory = try #require(result.workDirectory)
            #expect(rspamdProcesses(under: directory).isEmpty, "rspamd outlived \(result.name)")
        }
        #expect(results.map { $0.evidence?.engines.first?.action } == ["reject", "soft reject", "greylist"])
        #expect(results.map { $0.evidence?.engines.first?.answered } == [true, true, false])
        #expect(results.map { $0.evidence?.engines.first?.rejectScore } == [4, 5, 15])
    }
}
