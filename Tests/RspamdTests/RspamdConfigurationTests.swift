import Foundation
import Rspamd
import Testing

/// A scan line of rspamd 3.4's proxy worker in milter mode, as it logged one here (a message from
/// an IPv6 sender without PTR, at rspamd's default thresholds).
private let noActionLine =
    "2026-12-07 10:51:01 #17236(rspamd_proxy) <43c7b6>; proxy; rspamd_task_write_log: id: <acabcf63-baa5-4046-91d8-1785f38b3ef2@sender.test>, qid: <A0116F7B139>, ip: 2001:db8:5::25, from: <alice@sender.test>, (default: F (no action): [3.30/15.00] [HFILTER_HOSTNAME_UNKNOWN(2.50){},RDNS_NONE(1.00){},R_SPF_ALLOW(-0.20){+ip6:2001:db8:5::25;},MIME_GOOD(-0.10){text/plain;},ONCE_RECEIVED(0.10){},ARC_NA(0.00){},DMARC_NA(0.00){sender.test;},FROM_EQ_ENVFROM(0.00){},FROM_NO_DN(0.00){},MID_RHS_MATCH_FROM(0.00){},MIME_TRACE(0.00){0:+;},RCPT_COUNT_ONE(0.00){1;},RCVD_COUNT_ZERO(0.00){0;},R_DKIM_NA(0.00){},TO_DN_NONE(0.00){},TO_MATCH_ENVRCPT_ALL(0.00){}]), len: 232, time: 64.455ms, dns req: 19, digest: <4752c3d9721eb10d852a72578aa44bd4>, rcpts: <bob@example.test>, mime_rcpts: <bob@example.test>"

/// The same worker rejecting (a direct SPF fail at a strict site's thresholds).
private let rejectLine =
    "2026-12-07 10:50:50 #15201(rspamd_proxy) <9a01c2>; proxy; rspamd_task_write_log: id: <m1@sender.test>, qid: <83B9BF7AF2E>, ip: 2001:db8:5::25, from: <alice@sender.test>, (default: T (reject): [4.40/4.00] [VIOLATED_DIRECT_SPF(3.50){},R_SPF_FAIL(1.00){-all;},MIME_GOOD(-0.10){text/plain;}]), len: 232, time: 40.1ms, dns req: 17, digest: <00>, rcpts: <bob@example.test>"

/// `receiver.engines: [rspamd]`: the configuration rspamd is given, and its log read back.
@Suite struct RspamdConfigurationTests {
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
                == "# Written by mxharness: receiver.rspamd.\nadd_header = 2.5;\nreject = 4;\nsoft_reject = 3;\n"
                + "greylist = null;  # at a stronger action's threshold\n")
        let defaults = RspamdConfiguration(directory: "/d", cacheDirectory: "/c")
        #expect(defaults.files["local.d/actions.conf"] == nil)
        #expect(Set(defaults.files.keys) == ["rspamd.conf", "local.d/options.inc"])
    }

    @Test func anActionAtAStrongerOnesThresholdIsDisabled() throws {
        // The format's own example: soft_reject 6 meets rspamd's default add_header 6.
        let example = RspamdConfiguration(
            actions: ["reject": 15, "soft_reject": 6], directory: "/d", cacheDirectory: "/c")
        #expect(
            example.files["local.d/actions.conf"]
                == "# Written by mxharness: receiver.rspamd.\nreject = 15;\nsoft_reject = 6;\n"
                + "add_header = null;  # at a stronger action's threshold\n")
        // reject 4 meets the default greylist 4; soft_reject 1 and add_header 1: add_header goes.
        let ties = RspamdConfiguration(
            actions: ["reject": 4, "soft_reject": 1, "add_header": 1], directory: "/d", cacheDirectory: "/c")
        let text = try #require(ties.files["local.d/actions.conf"])
        #expect(text.contains("add_header = null;") && text.contains("greylist = null;"))
        #expect(text.contains("soft_reject = 1;") && text.contains("reject = 4;") && !text.contains("add_header = 1;"))
        // No tie: as given.
        let apart = RspamdConfiguration(
            actions: ["reject": 5, "soft_reject": 3, "add_header": 2.5], directory: "/d", cacheDirectory: "/c")
        #expect(!(apart.files["local.d/actions.conf"] ?? "").contains("null"))
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

    @Test func theHTTPInterfaceIsOneNormalWorkerOnRspamdsOwnPort() throws {
        var http = configuration
        http.interface = .http
        let main = try #require(http.files["rspamd.conf"])
        #expect(main.contains("worker \"normal\" {\n    bind_socket = \"127.0.0.1:11333\";"))
        #expect(!main.contains("rspamd_proxy"))
        #expect(!main.contains("milter"))
        #expect(http.port == 11333)
        #expect(configuration.port == 11332)
    }
}
