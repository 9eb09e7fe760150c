import Foundation
import MXHarnessTestKit
@testable import Postfix
import Runner
import Scenario
import Testing

/// A scan line of rspamd 3.4's proxy worker in milter mode, as it logged one here (a message from
/// an IPv6 sender without PTR, at rspamd's default thresholds).
private let noActionLine =
    "2026-12-07 10:51:01 #17236(rspamd_proxy) <43c7b6>; proxy; rspamd_task_write_log: id: <acabcf63-baa5-4046-91d8-1785f38b3ef2@sender.test>, qid: <A0116F7B139>, ip: 2001:db8:5::25, from: <alice@sender.test>, (default: F (no action): [3.30/15.00] [HFILTER_HOSTNAME_UNKNOWN(2.50){},RDNS_NONE(1.00){},R_SPF_ALLOW(-0.20){+ip6:2001:db8:5::25;},MIME_GOOD(-0.10){text/plain;},ONCE_RECEIVED(0.10){},ARC_NA(0.00){},DMARC_NA(0.00){sender.test;},FROM_EQ_ENVFROM(0.00){},FROM_NO_DN(0.00){},MID_RHS_MATCH_FROM(0.00){},MIME_TRACE(0.00){0:+;},RCPT_COUNT_ONE(0.00){1;},RCVD_COUNT_ZERO(0.00){0;},R_DKIM_NA(0.00){},TO_DN_NONE(0.00){},TO_MATCH_ENVRCPT_ALL(0.00){}]), len: 232, time: 64.455ms, dns req: 19, digest: <4752c3d9721eb10d852a72578aa44bd4>, rcpts: <bob@example.test>, mime_rcpts: <bob@example.test>"

/// The same worker rejecting (a direct SPF fail at a strict site's thresholds).
private let rejectLine =
    "2026-12-07 10:50:50 #15201(rspamd_proxy) <9a01c2>; proxy; rspamd_task_write_log: id: <m1@sender.test>, qid: <83B9BF7AF2E>, ip: 2001:db8:5::25, from: <alice@sender.test>, (default: T (reject): [4.40/4.00] [VIOLATED_DIRECT_SPF(3.50){},R_SPF_FAIL(1.00){-all;},MIME_GOOD(-0.10){text/plain;}]), len: 232, time: 40.1ms, dns req: 17, digest: <00>, rcpts: <bob@example.test>"

/// `receiver.engines: [rspamd]`: the configuration rspamd is given, and its log read back.
@Suite struct RspamdTests {
    let configuration = RspamdConfiguration(
        actions: ["soft_reject": 3, "reject": 4, "add_header": 2.5], dnsTimeoutSeconds: 2, nameserver: "127.0.0.3",
        directory: "/case/rspamd", cacheDirectory: "/var/cache/mxharness/rspamd")

    @Test func oneProxyWorkerScansByItselfAsAMilter() throws {
        let files = configuration.files
        let main = try #require(files["rspamd.conf"])
        #expect(main.contains(".include \"$CONFDIR/common.conf\"\n"))
        // self_scan inside the upstream: as a worker option the proxy aborts on the first message.
        #expect(main.contains("upstream \"local\" { default = yes; self_scan = yes; }"))
        #expect(main.contains("bind_socket = \"127.0.0.1:11332\";"))
        #expect(main.contains("milter = yes;"))
        #expect(main.contains("reject_message = \"Spam message rejected\";"))
        #expect(!main.contains("controller"))
        #expect(PostfixRspamdEngine.milter == "inet:127.0.0.1:11332")
    }

    @Test func theWorldsResolverTheRunsTimeoutAndTheSharedCache() throws {
        let options = try #require(configuration.files["local.d/options.inc"])
        #expect(options.contains("nameserver = [\"127.0.0.3:53\"];"))
        #expect(options.contains("timeout = 2s;"))
        #expect(options.contains("hs_cache_dir = \"/var/cache/mxharness/rspamd/\";"))
    }

    @Test func thresholdsGivenAreWrittenAndNoneLeavesRspamdsOwn() throws {
        #expect(
            configuration.files["local.d/actions.conf"]
                == "# Written by mxharness: receiver.rspamd.\nadd_header = 2.5;\nreject = 4;\nsoft_reject = 3;\n")
        let defaults = RspamdConfiguration(directory: "/d", cacheDirectory: "/c")
        #expect(defaults.files["local.d/actions.conf"] == nil)
        #expect(Set(defaults.files.keys) == ["rspamd.conf", "local.d/options.inc"])
    }

    @Test func variablesArePassedInTheOnlyFormRspamdTakes() {
        let arguments = configuration.arguments(user: "_rspamd", group: "_rspamd")
        #expect(
            arguments == [
                "-f", "-c", "/case/rspamd/rspamd.conf", "-u", "_rspamd", "-g", "_rspamd",
                "--var=LOCAL_CONFDIR=/case/rspamd", "--var=DBDIR=/case/rspamd/db", "--var=RUNDIR=/case/rspamd/run",
                "--var=LOGDIR=/case/rspamd/log",
            ])
    }

    @Test func aScanLineGivesTheActionScoreThresholdAndEverySymbol() throws {
        let scan = try #require(RspamdScan.parse(noActionLine))
        #expect(scan.action == "no action")
        #expect(scan.score == 3.3)
        #expect(scan.requiredScore == 15)
        #expect(scan.queueID == "A0116F7B139")
        #expect(scan.client == "2001:db8:5::25")
        #expect(scan.symbols.count == 16)
        #expect(scan.symbols.prefix(3).map(\.name) == ["HFILTER_HOSTNAME_UNKNOWN", "RDNS_NONE", "R_SPF_ALLOW"])
        #expect(scan.symbols.prefix(3).map(\.score) == [2.5, 1, -0.2])
        #expect(scan.symbols.last?.name == "TO_MATCH_ENVRCPT_ALL")
        let verdict = scan.verdict
        #expect(verdict.engine == "rspamd")
        #expect(!verdict.answered, "no action accepts: the receiver's own reply stands")
        #expect(verdict.summary == "rspamd 3.30/15.00 no action")
        #expect(verdict.messageID == "A0116F7B139")
    }

    @Test func aRejectAnswersTheSender() throws {
        let scan = try #require(RspamdScan.parse(rejectLine))
        #expect(scan.action == "reject")
        #expect(scan.score == 4.4)
        #expect(scan.requiredScore == 4)
        #expect(scan.symbols.map(\.name) == ["VIOLATED_DIRECT_SPF", "R_SPF_FAIL", "MIME_GOOD"])
        #expect(scan.verdict.answered)
        #expect(scan.verdict.summary == "rspamd 4.40/4.00 reject (answered)")
        #expect(
            scan.description
                == "rspamd: 4.40 (reject; reject at 4.00): VIOLATED_DIRECT_SPF 3.50, R_SPF_FAIL 1.00, MIME_GOOD -0.10")
    }

    @Test func onlyScanLinesAreScans() {
        let log = [
            "2026-12-07 10:51:00 #17236(main) <43c7b6>; main; main: rspamd 3.4 is starting",
            noActionLine,
            "2026-12-07 10:51:01 #17236(rspamd_proxy) <43c7b6>; proxy; rspamd_task_write_log: truncated",
            rejectLine,
        ].joined(separator: "\n")
        #expect(RspamdScan.scans(inLog: log).map(\.queueID) == ["A0116F7B139", "83B9BF7AF2E"])
        #expect(RspamdScan.parse("rspamd_task_write_log: (default: F (no action): [x/15.00] []") == nil)
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
private func rspamdProcesses(under directory: String) -> [Int32] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
        guard let pid = Int32(entry),
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
            String(decoding: data, as: UTF8.self).contains("--var=LOCAL_CONFDIR=" + directory)
        else { return nil }
        return pid
    }
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
        let yaml = """
            name: spf-without-ip6
            dns:
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. AAAA 2001:db8::10
                - mail.sender.test. A 203.0.113.25
                - mail.sender.test. AAAA 2001:db8:5::25
                - 2001:db8:5::25 PTR mail.sender.test.
                - sender.test. MX 10 mail.sender.test.
                - sender.test. TXT "v=spf1 ip4:203.0.113.25 -all"
            receiver:
              hostname: mx.example.test
              addresses: ["2001:db8::10"]
              target: postfix
              engines: [rspamd]
            \(thresholds)
            sender:
              addresses: {ipv6: "2001:db8:5::25"}
              helo: mail.sender.test
              mail_from: alice@sender.test
              rcpt_to: [bob@example.test]
            expect: \(expect)
            """
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
