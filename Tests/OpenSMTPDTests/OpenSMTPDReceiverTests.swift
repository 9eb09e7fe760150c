#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MXHarnessTestKit
import OpenSMTPD
import Runner
import RunnerTestKit
import Scenario
import Testing

var openSMTPDHere: Bool { if case .success = OpenSMTPDInstallation.find() { true } else { false } }

/// The built-in parts and OpenSMTPD as the receiver, configured as `--opensmtpd-config` would.
func openSMTPDParts(configurationText: String? = nil) -> PartCatalog {
    builtinParts.adding(OpenSMTPDReceivers(configurationText: configurationText))
}

/// What scenarios with the OpenSMTPD kind may name (`target: opensmtpd`).
let openSMTPDKinds = PartCatalog(receivers: [OpenSMTPDReceivers()]).scenarioKinds

@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && openSMTPDHere,
        "needs root, unbound and OpenSMTPD unpacked by scripts/lib.sh's unpack_mtas"))
struct OpenSMTPDReceiverTests {
    @Test func fcrdnsPassesAndFailsAndTheHostsSpoolAndRunAreUntouched() async throws {
        let spoolBefore = FileManager.default.fileExists(atPath: "/var/spool/smtpd")
        let socketBefore = FileManager.default.fileExists(atPath: "/run/smtpd.sock")
        let good = await runOne(
            parts: openSMTPDParts(),
            try realReceiverScenario(
                "osmtpd-good", kinds: openSMTPDKinds, target: "opensmtpd", policy: "fcrdns-strict", records: confirmed))
        #expect(observed(good) == "delivered data 250 2.0.0")
        #expect(good.receiverLog.contains("smtp connected address=203.0.113.25"), "\(good.receiverLog)")
        let bad = await runOne(
            parts: openSMTPDParts(),
            try realReceiverScenario(
                "osmtpd-bad", kinds: openSMTPDKinds, target: "opensmtpd", policy: "fcrdns-strict", records: noPTR))
        #expect(observed(bad) == "bounced rcpt 550 5.7.25")
        #expect(bad.receiverLog.contains("result=\"550 5.7.25"), "\(bad.receiverLog)")
        #expect(FileManager.default.fileExists(atPath: "/var/spool/smtpd") == spoolBefore)
        #expect(FileManager.default.fileExists(atPath: "/run/smtpd.sock") == socketBefore)
    }

    @Test func eachFamilyGetsItsOwnListThroughItsListener() async throws {
        // IPv6 checked (deferring), IPv4 not: the sender has no PTR at all and tries IPv6 first.
        let result = await runOne(
            parts: openSMTPDParts(),
            try realReceiverScenario(
                "osmtpd-family", kinds: openSMTPDKinds, target: "opensmtpd",
                policy: "{ipv4: [], ipv6: [fcrdns], on_fail: defer}",
                records: noPTR + ["mail.sender.test. AAAA 2001:db8:5::25"],
                dualStack: true))
        #expect(observed(result) == "delivered data 250 2.0.0", "deferred over IPv6, delivered over IPv4")
        #expect(result.observed?.family == .ipv4)
    }

    @Test func aUsersOwnSmtpdConfRunsAsItIs() async throws {
        let text = """
            table domains { "example.test" }
            table users { "@" = "nobody" }
            filter "mine" phase mail-from match !rdns reject "554 5.7.1 mine says no"
            listen on 192.0.2.10 port 25 filter "mine"
            listen on 2001:db8::10 port 25 filter "mine"
            action "keep" mda "/bin/sh -c 'cat >/dev/null'" virtual <users>
            match from any for domain <domains> action "keep"
            """
        let result = await runOne(
            try realReceiverScenario(
                "osmtpd-own", kinds: openSMTPDKinds, target: "opensmtpd", policy: "helo-strict", records: noPTR),
            parts: openSMTPDParts(configurationText: text))
        #expect(
            observed(result) == "bounced mail 554 5.7.1",
            "its own filter at MAIL, though the scenario's preset is not expressible")
    }

    /// A receiver offering STARTTLS with the world's certificates, one per listener (IPv6 gets
    /// `certificate`, IPv4 the valid one), and a dual-stack sender at `level`.
    func tlsScenario(_ name: String, ipv6Certificate: String, level: String) throws -> ScenarioCase {
        let yaml = """
            name: \(name)
            dns:
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10
                - mx.example.test. AAAA 2001:db8::10
                - mail.sender.test. A 203.0.113.25
                - mail.sender.test. AAAA 2001:db8:5::25
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10, "2001:db8::10"]
              target: opensmtpd
              policy: open
              tls:
                starttls: true
                listeners: [{address: "2001:db8::10", certificate: \(ipv6Certificate)}]
            sender:
              addresses: {ipv4: 203.0.113.25, ipv6: "2001:db8:5::25"}
              helo: mail.sender.test
              mail_from: a@sender.test
              rcpt_to: [b@example.test]
              tls: \(level)
            expect: {outcome: delivered}
            """
        return try #require(try ScenarioLoader(kinds: openSMTPDKinds).load(yaml: yaml, file: "/tmp/\(name).yaml").first)
    }

    @Test func startTLSWithACertificatePerListener() async throws {
        // At verify the self-signed IPv6 listener fails the check (4.7.5) and the valid IPv4 one
        // takes the message over TLS: both handshakes ran against smtpd.
        let verify = await runOne(
            parts: openSMTPDParts(),
            try tlsScenario("osmtpd-tls-verify", ipv6Certificate: "self-signed", level: "verify"))
        #expect(observed(verify) == "delivered data 250 2.0.0", "\(verify.receiverLog)")
        #expect(verify.observed?.family == .ipv4)
        #expect(verify.observed?.tls == true)
        #expect(verify.observed?.attempts.first?.reply?.enhanced == "4.7.5")
        #expect(verify.receiverLog.contains("smtp tls ciphers=TLSv1.3:"), "\(verify.receiverLog)")
        // At may nothing is checked: the self-signed IPv6 listener takes it.
        let may = await runOne(
            parts: openSMTPDParts(), try tlsScenario("osmtpd-tls-may", ipv6Certificate: "self-signed", level: "may"))
        #expect(observed(may) == "delivered data 250 2.0.0", "\(may.receiverLog)")
        #expect(may.observed?.family == .ipv6)
        #expect(may.observed?.tls == true)
    }

    @Test func whatItCannotExpressIsSkipped() async throws {
        let result = await runOne(
            parts: openSMTPDParts(),
            try realReceiverScenario(
                "osmtpd-helo", kinds: openSMTPDKinds, target: "opensmtpd", policy: "helo-strict", records: confirmed))
        guard case .skipped(let reason) = result.status else {
            Issue.record("expected a skip, got \(result.status)")
            return
        }
        #expect(reason.contains("helo-valid"))
    }
}
