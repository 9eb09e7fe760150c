#if canImport(Glibc)
import Glibc
#endif
import Exim
import Foundation
import MXHarnessTestKit
import Runner
import RunnerTestKit
import Scenario
import Testing

var eximHere: Bool { if case .success = EximInstallation.find() { true } else { false } }

/// The built-in parts and Exim as the receiver, configured as `--exim-config` would.
func eximParts(configurationText: String? = nil) -> PartCatalog {
    builtinParts.adding(EximReceivers(configurationText: configurationText))
}

/// What scenarios with the Exim kinds may name and set (`target: exim`, `receiver.exim`).
let eximKinds = PartCatalog(receivers: [EximReceivers()], senders: [EximSenders()]).scenarioKinds

@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && eximHere,
        "needs root, unbound and Exim unpacked by scripts/lib.sh's unpack_mtas"))
struct EximReceiverTests {
    @Test func fcrdnsPassesAndFailsWithTheSpecsReplyAndEximsLog() async throws {
        let good = await runOne(
            parts: eximParts(),
            try realReceiverScenario(
                "exim-good", kinds: eximKinds, target: "exim", policy: "fcrdns-strict", records: confirmed))
        #expect(observed(good) == "delivered data 250 2.0.0")
        #expect(good.receiverLog.contains("<= a@sender.test H=mail.sender.test [203.0.113.25]"), "\(good.receiverLog)")
        let bad = await runOne(
            parts: eximParts(),
            try realReceiverScenario(
                "exim-bad", kinds: eximKinds, target: "exim", policy: "fcrdns-strict", records: noPTR))
        #expect(observed(bad) == "bounced rcpt 550 5.7.25")
        #expect(bad.observed?.reply?.text == "Client host rejected: cannot find your hostname, [203.0.113.25]")
        #expect(bad.receiverLog.contains("rejected RCPT <b@example.test>"), "\(bad.receiverLog)")
    }

    @Test func aDNSErrorGetsTheSpecsTemporaryReplyAndOnFailDeferGets450() async throws {
        let servfail = await runOne(
            parts: eximParts(),
            try realReceiverScenario(
                "exim-servfail", kinds: eximKinds, target: "exim", policy: "fcrdns-strict", records: noPTR,
                faults: "[{name: 113.0.203.in-addr.arpa, fault: servfail}]"))
        #expect(observed(servfail) == "deferred rcpt 450 4.7.25")
        let deferring = await runOne(
            parts: eximParts(),
            try realReceiverScenario("exim-defer", kinds: eximKinds, target: "exim", policy: "fcrdns", records: noPTR)
        )
        #expect(observed(deferring) == "deferred rcpt 450 4.7.25")
    }

    /// Exim's stub resolver waits as long as the run's resolver does (`--dns-timeout`, rounded up
    /// to whole seconds): the resolv.conf it reads says so, and a lookup that never gets an
    /// answer ends in the temporary reply.
    @Test func theRunsDNSTimeoutIsEximsResolverTimeout() async throws {
        let artifacts = NSTemporaryDirectory() + "/exim-timeout-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: artifacts) }
        let scenario = try realReceiverScenario(
            "exim-timeout", kinds: eximKinds, target: "exim", policy: "fcrdns-strict", records: noPTR,
            faults: "[{name: 113.0.203.in-addr.arpa, fault: timeout}]")
        let result = await runOne(
            scenario, RunConfiguration(resolverTimeout: .milliseconds(1500), artifactsDirectory: artifacts),
            parts: eximParts())
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
        let denied = await runOne(
            parts: eximParts(),
            try realReceiverScenario(
                "exim-site", kinds: eximKinds, target: "exim", policy: "open", records: confirmed, receiverExtra: site))
        #expect(observed(denied) == "bounced rcpt 554 5.7.1")
        #expect(denied.observed?.reply?.text == "site says no")
        let broken = "  exim:\n    acl_rcpt: \"  frobnicate everything\"\n"
        let failed = await runOne(
            parts: eximParts(),
            try realReceiverScenario(
                "exim-broken", kinds: eximKinds, target: "exim", policy: "open", records: confirmed,
                receiverExtra: broken))
        guard case .error(let message) = failed.status else {
            Issue.record("a broken ACL must fail the case, got \(failed.status)")
            return
        }
        #expect(message.contains("Exim said:"), "\(message)")
        #expect(message.contains("frobnicate"), "Exim's own words name the bad statement: \(message)")
    }

    @Test func aUsersOwnConfigurationRunsWithItsOwnACLs() async throws {
        let text = """
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
        let result = await runOne(
            try realReceiverScenario(
                "exim-own", kinds: eximKinds, target: "exim", policy: "fcrdns-strict", records: confirmed),
            parts: eximParts(configurationText: text))
        #expect(observed(result) == "bounced rcpt 550 5.7.1")
    }

    @Test func spfIsSkippedWithTheReasonWhenTheBuildLacksIt() async throws {
        guard case .success(let installation) = EximInstallation.find(), !installation.hasSPF else { return }
        let result = await runOne(
            parts: eximParts(),
            try realReceiverScenario(
                "exim-spf", kinds: eximKinds, target: "exim", policy: "{checks: [spf]}", records: confirmed))
        #expect(
            result.status
                == .skipped("check spf needs SPF, which the unpacked Exim (exim4-daemon-light) is built without"))
    }

    @Test func aProxyProtocolReceiverIsSkippedWithTheReason() async throws {
        let theme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/identities").path
        var scenario = try #require(
            try ScenarioLoader(kinds: eximKinds).load(paths: [theme]).first { $0.name == "proxy-v1" })
        scenario.receiver.target = .exim
        let result = await runOne(parts: eximParts(), scenario)
        #expect(
            result.status
                == .skipped(
                    "receiver.proxy_protocol: haproxy is not set up for Exim (the built-in MX and Postfix take PROXY headers)"
                ))
    }
}
