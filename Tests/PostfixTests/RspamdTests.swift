import Foundation
import MXHarnessTestKit
@testable import Postfix
import Rspamd
import Runner
import Scenario
import Testing

/// `receiver.engines: [rspamd]` on Postfix: rspamd as the instance's last milter.
@Suite struct RspamdTests {
    @Test func theMilterAddressIsTheProxyWorkers() {
        #expect(PostfixRspamdEngine.milter == "inet:127.0.0.1:\(RspamdConfiguration.milterPort)")
        #expect(PostfixRspamdEngine.milter == "inet:127.0.0.1:11332")
    }

    /// The receiver kind turns the case's keys into the configuration: rspamd as the last milter,
    /// the thresholds by rspamd's action names, never shared.
    @Test func aCaseListingRspamdGetsItAsTheLastMilter() throws {
        let yaml = """
            name: rspamd
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10"]}
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10]
              engines: [rspamd]
              rspamd: {reject: 4, soft_reject: 3, add_header: 2}
            sender: {addresses: {ipv4: 203.0.113.25}, helo: mail.sender.test, mail_from: a@sender.test,
                     rcpt_to: [b@example.test]}
            expect: {outcome: delivered}
            """
        let scenario = try #require(try ScenarioLoader().load(yaml: yaml, file: "rspamd.yaml").first)
        let configuration = PostfixReceivers().configuration(for: scenario)
        let engine = try #require(configuration.rspamd)
        #expect(engine.actions == ["reject": 4, "soft_reject": 3, "add_header": 2])
        let rendered = try configuration.render(paths: PostfixPaths(under: "/x"))
        #expect(rendered.parameters["smtpd_milters"] == "inet:127.0.0.1:11332")
        #expect(rendered.parameters["milter_default_action"] == "tempfail")
        #expect(configuration.sharingRefusal != nil, "an instance with rspamd serves one case")
        var plain = scenario
        plain.receiver.engines = []
        plain.receiver.rspamd = RspamdThresholds()
        #expect(PostfixReceivers().configuration(for: plain).rspamd == nil)
    }

    /// In CI rspamd is installed (scripts/lib.sh), so the suite below runs there.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MXHARNESS_CI"] == "1"))
    func ciInstallsRspamd() {
        #expect(RspamdSetup.detect().missingReason == nil, "CI must install rspamd (scripts/lib.sh PACKAGES)")
    }
}

/// rspamd's processes started with a configuration under `directory`.
private func rspamdProcesses(under directory: String) -> [LiveProcess] {
    LiveProcess.mentioning("--var=LOCAL_CONFDIR=" + directory)
}

/// A case through a real Postfix with a real rspamd as its milter: the verdict is rspamd's, its
/// score and symbols are in the case's evidence, and nothing of it is left afterwards.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix
            && RspamdSetup.detect().missingReason == nil,
        "needs root (network namespaces), unbound, postfix and rspamd (apt-get install unbound postfix rspamd); run as root"
    ))
struct RspamdRunTests {
    /// An IPv6 sender whose SPF record lists only its IPv4 address: rspamd 3.4 scores it 4.40.
    static func scenario(thresholds: String, expect: String) throws -> ScenarioCase {
        let yaml = rspamdSPFWithoutIPv6(target: "postfix", thresholds: thresholds, expect: expect)
        return try #require(try ScenarioLoader().load(yaml: yaml, file: "rspamd.yaml").first)
    }

    @Test func rspamdRejectsAtTheSitesThresholdAndTheReportSaysWhy() async throws {
        let strict = try Self.scenario(
            thresholds: "  rspamd: {reject: 4, soft_reject: 3, add_header: 2, greylist: 1}",
            expect: "{outcome: bounced, stage: data, code: 554, enhanced: 5.7.1, text: Spam message rejected}")
        let lenient = try Self.scenario(
            thresholds: "", expect: "{outcome: delivered, stage: data, code: 250, enhanced: 2.0.0, text: queued as}")
        let results = await PostfixPoolTests.runFresh([strict, lenient])
        #expect(
            results.allSatisfy { $0.status == .passed },
            "\(results.map { "\($0.name): \($0.status) \($0.mismatches)" })")
        for result in results {
            let verdict = try #require(result.evidence?.engines.first, "\(result.name): no rspamd verdict")
            #expect(result.evidence?.engines.count == 1)
            #expect(verdict.engine == "rspamd")
            #expect(verdict.score == 4.4, "\(verdict)")
            #expect(verdict.symbols.map(\.name).starts(with: ["VIOLATED_DIRECT_SPF", "R_SPF_FAIL"]), "\(verdict)")
            #expect(result.receiverLog.contains("rspamd: 4.40 ("), "\(result.receiverLog)")
            let directory = try #require(result.workDirectory)
            #expect(rspamdProcesses(under: directory).isEmpty, "rspamd outlived \(result.name)")
            #expect(!FileManager.default.fileExists(atPath: directory), "\(result.name) left \(directory)")
        }
        #expect(results[0].evidence?.engines.first?.action == "reject")
        #expect(results[0].evidence?.engines.first?.answered == true)
        #expect(results[0].evidence?.engines.first?.rejectScore == 4)
        // At rspamd's own thresholds 4.40 reaches greylist, which accepts without a greylisting store.
        #expect(results[1].evidence?.engines.first?.action == "greylist")
        #expect(results[1].evidence?.engines.first?.answered == false)
        #expect(results[1].evidence?.engines.first?.rejectScore == 15)
    }
}
