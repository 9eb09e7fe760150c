#if canImport(Glibc)
import Glibc
#endif
import EximTarget
import Foundation
import MXHarnessTestKit
import OpenSMTPDTarget
import Runner
import Scenario
import Testing

/// One receiver on 192.0.2.10 and 2001:db8::10 with TARGET and EXTRA receiver keys; a sender on
/// 203.0.113.25 (and 2001:db8:5::25 when `dualStack`) whose world is RECORDS.
func realReceiverScenario(
    _ name: String, target: String, policy: String, records: [String], receiverExtra: String = "", faults: String = "[]",
    dualStack: Bool = false
) throws -> ScenarioCase {
    let yaml = """
        name: \(name)
        dns:
          records:
        \((["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10", "mx.example.test. AAAA 2001:db8::10"] + records)
            .map { "    - \($0)" }.joined(separator: "\n"))
          faults: \(faults)
        receiver:
          hostname: mx.example.test
          addresses: [192.0.2.10, "2001:db8::10"]
          target: \(target)
          policy: \(policy)
        \(receiverExtra)
        sender:
          addresses: \(dualStack ? "{ipv4: 203.0.113.25, ipv6: \"2001:db8:5::25\"}" : "{ipv4: 203.0.113.25}")
          helo: mail.sender.test
          mail_from: a@sender.test
          rcpt_to: [b@example.test]
        expect: {outcome: delivered}
        """
    return try #require(try ScenarioLoader().load(yaml: yaml, file: "/tmp/\(name).yaml").first)
}

func observed(_ result: CaseResult) -> String {
    guard let observed = result.observed else { return "\(result.status.label) \(result.status)" }
    return [observed.outcome.rawValue, observed.stage?.rawValue ?? "-", observed.reply.map { "\($0.code) \($0.enhanced ?? "-")" } ?? "-"]
        .joined(separator: " ")
}

let confirmed = ["mail.sender.test. A 203.0.113.25", "203.0.113.25 PTR mail.sender.test."]
let noPTR = ["mail.sender.test. A 203.0.113.25"]

func runOne(_ scenario: ScenarioCase, _ configuration: RunConfiguration = RunConfiguration()) async -> CaseResult {
    await CaseRunner(configuration: configuration).run(scenario)
}

var eximHere: Bool { if case .success = EximInstallation.find() { true } else { false } }
var openSMTPDHere: Bool { if case .success = OpenSMTPDInstallation.find() { true } else { false } }

@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds && eximHere,
                             "needs root, unbound and Exim unpacked by scripts/lib.sh's unpack_mtas"))
struct EximReceiverTests {
    @Test func fcrdnsPassesAndFailsWithTheSpecsReplyAndEximsLog() async throws {
        let good = await runOne(try realReceiverScenario("exim-good", target: "exim", policy: "fcrdns-strict", records: confirmed))
        #expect(observed(good) == "delivered data 250 2.0.0")
        #expect(good.receiverLog.contains("<= a@sender.test H=mail.sender.test [203.0.113.25]"), "\(good.receiverLog)")
        let bad = await runOne(try realReceiverScenario("exim-bad", target: "exim", policy: "fcrdns-strict", records: noPTR))
        #expect(observed(bad) == "bounced rcpt 550 5.7.25")
        #expect(bad.observed?.reply?.text == "Client host rejected: cannot find your hostname, [203.0.113.25]")
        #expect(bad.receiverLog.contains("rejected RCPT <b@example.test>"), "\(bad.receiverLog)")
    }

    @Test func aDNSErrorGetsTheSpecsTemporaryReplyAndOnFailDeferGets450() async throws {
        let servfail = await runOne(try realReceiverScenario(
            "exim-servfail", target: "exim", policy: "fcrdns-strict", records: noPTR, faults: "[{name: 113.0.203.in-addr.arpa, fault: servfail}]"))
        #expect(observed(servfail) == "deferred rcpt 450 4.7.25")
        let deferring = await runOne(try realReceiverScenario("exim-defer", target: "exim", policy: "fcrdns", records: noPTR))
        #expect(observed(deferring) == "deferred rcpt 450 4.7.25")
    }

    /// Exim's stub resolver waits as long as the run's resolver does (`--dns-timeout`, rounded up
    /// to whole seconds): the resolv.conf it reads says so, and a lookup that never gets an
    /// answer ends in the temporary reply.
    @Test func theRunsDNSTimeoutIsEximsResolverTimeout() async throws {
        let artifacts = NSTemporaryDirectory() + "/exim-timeout-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: artifacts) }
        let scenario = try realReceiverScenario(
            "exim-timeout", target: "exim", policy: "fcrdns-strict", records: noPTR, faults: "[{name: 113.0.203.in-addr.arpa, fault: timeout}]")
        let result = await runOne(scenario, RunConfiguration(resolverTimeout: .milliseconds(1500), artifactsDirectory: artifacts))
        #expect(observed(result) == "deferred rcpt 450 4.7.25")
        let resolvConf = try String(contentsOfFile: artifacts + "/exim-timeout/receiver/resolv.conf", encoding: .utf8)
        #expect(resolvConf.hasSuffix("options timeout:2 attempts:1 trust-ad\n"), "\(resolvConf)")
    }

    @Test func siteACLStatementsComeFirstAndABrokenOneShowsEximsWords() async throws {
        let site = """
              exim:
                acl_rcpt: |
                  deny message = 554 5.7.1 site says no
                       hosts = 203.0.113.25
            """
        let denied = await runOne(try realReceiverScenario("exim-site", target: "exim", policy: "open", records: confirmed, receiverExtra: site))
        #expect(observed(denied) == "bounced rcpt 554 5.7.1")
        #expect(denied.observed?.reply?.text == "site says no")
        let broken = "  exim:\n    acl_rcpt: \"  frobnicate everything\"\n"
        let failed = await runOne(try realReceiverScenario("exim-broken", target: "exim", policy: "open", records: confirmed, receiverExtra: broken))
        guard case .error(let message) = failed.status else {
            Issue.record("a broken ACL must fail the case, got \(failed.status)")
            return
        }
        #expect(message.contains("Exim said:"), "\(message)")
        #expect(message.contains("frobnicate"), "Exim's own words name the bad statement: \(message)")
    }

    @Test func aUsersOwnConfigurationRunsWithItsOwnACLs() async throws {
        var settings = RunConfiguration()
        settings.eximConfiguration = """
            primary_hostname = mine.example.test
            domainlist local_domains = example.test
            acl_smtp_rcpt = mine
            host_lookup =
            begin acl
            mine:
              deny message = 550 5.7.1 mine says no
            begin routers
            discard:
              driver = redirect
              data = :blackhole:
            """
        let result = await runOne(try realReceiverScenario("exim-own", target: "exim", policy: "fcrdns-strict", records: confirmed), settings)
        #expect(observed(result) == "bounced rcpt 550 5.7.1")
    }

    @Test func spfIsSkippedWithTheReasonWhenTheBuildLacksIt() async throws {
        guard case .success(let installation) = EximInstallation.find(), !installation.hasSPF else { return }
        let result = await runOne(try realReceiverScenario("exim-spf", target: "exim", policy: "{checks: [spf]}", records: confirmed))
        #expect(result.status == .skipped("check spf needs SPF, which the unpacked Exim (exim4-daemon-light) is built without"))
    }
}

@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds && openSMTPDHere,
                             "needs root, unbound and OpenSMTPD unpacked by scripts/lib.sh's unpack_mtas"))
struct OpenSMTPDReceiverTests {
    @Test func fcrdnsPassesAndFailsAndTheHostsSpoolAndRunAreUntouched() async throws {
        let spoolBefore = FileManager.default.fileExists(atPath: "/var/spool/smtpd")
        let socketBefore = FileManager.default.fileExists(atPath: "/run/smtpd.sock")
        let good = await runOne(try realReceiverScenario("osmtpd-good", target: "opensmtpd", policy: "fcrdns-strict", records: confirmed))
        #expect(observed(good) == "delivered data 250 2.0.0")
        #expect(good.receiverLog.contains("smtp connected address=203.0.113.25"), "\(good.receiverLog)")
        let bad = await runOne(try realReceiverScenario("osmtpd-bad", target: "opensmtpd", policy: "fcrdns-strict", records: noPTR))
        #expect(observed(bad) == "bounced rcpt 550 5.7.25")
        #expect(bad.receiverLog.contains("result=\"550 5.7.25"), "\(bad.receiverLog)")
        #expect(FileManager.default.fileExists(atPath: "/var/spool/smtpd") == spoolBefore)
        #expect(FileManager.default.fileExists(atPath: "/run/smtpd.sock") == socketBefore)
    }

    @Test func eachFamilyGetsItsOwnListThroughItsListener() async throws {
        // IPv6 checked (deferring), IPv4 not: the sender has no PTR at all and tries IPv6 first.
        let result = await runOne(try realReceiverScenario(
            "osmtpd-family", target: "opensmtpd", policy: "{ipv4: [], ipv6: [fcrdns], on_fail: defer}", records: noPTR + ["mail.sender.test. AAAA 2001:db8:5::25"],
            dualStack: true))
        #expect(observed(result) == "delivered data 250 2.0.0", "deferred over IPv6, delivered over IPv4")
        #expect(result.observed?.family == .ipv4)
    }

    @Test func aUsersOwnSmtpdConfRunsAsItIs() async throws {
        var settings = RunConfiguration()
        settings.openSMTPDConfiguration = """
            table domains { "example.test" }
            table users { "@" = "nobody" }
            filter "mine" phase mail-from match !rdns reject "554 5.7.1 mine says no"
            listen on 192.0.2.10 port 25 filter "mine"
            listen on 2001:db8::10 port 25 filter "mine"
            action "keep" mda "/bin/sh -c 'cat >/dev/null'" virtual <users>
            match from any for domain <domains> action "keep"
            """
        let result = await runOne(try realReceiverScenario("osmtpd-own", target: "opensmtpd", policy: "helo-strict", records: noPTR), settings)
        #expect(observed(result) == "bounced mail 554 5.7.1", "its own filter at MAIL, though the scenario's preset is not expressible")
    }

    @Test func whatItCannotExpressIsSkipped() async throws {
        let result = await runOne(try realReceiverScenario("osmtpd-helo", target: "opensmtpd", policy: "helo-strict", records: confirmed))
        guard case .skipped(let reason) = result.status else {
            Issue.record("expected a skip, got \(result.status)")
            return
        }
        #expect(reason.contains("helo-valid"))
    }
}
