import Catalog
import Foundation
import Rspamd
import Runner
import RunnerTestKit
import Scenario
import Testing
import MXHarnessTestKit

/// The executable's catalog gives the loader every kind's names and keys: the messages a user sees
/// list them all, in the catalog's order.
@Suite struct StandardCatalogTests {
    let kinds = PartCatalog.standard().scenarioKinds

    @Test func namesAndKeysAreTheKinds() {
        #expect(kinds.receivers.map(\.rawValue) == ["builtin", "postfix", "exim", "opensmtpd", "exec"])
        #expect(kinds.senders.map(\.rawValue) == ["builtin", "postfix", "exim"])
        #expect(
            kinds.keys.map { "\($0.part).\($0.name)" } == [
                "receiver.postfix", "receiver.postfix_dir", "receiver.exim", "receiver.exec", "sender.postfix",
                "sender.exim",
            ])
    }

    /// The built-in MX runs the real rspamd over HTTP: an rspamd case runs there wherever rspamd is
    /// installed, and skips with the installation's reason elsewhere, as on Postfix.
    @Test func rspamdCasesRunOnTheBuiltinMXWhereRspamdIsInstalled() throws {
        let builtin = try #require(PartCatalog.standard().receivers[.builtin])
        func reason(_ engines: String) throws -> String? {
            let yaml = formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  engines: \(engines)")
            let scenario = try #require(
                try ScenarioLoader(kinds: kinds).load(yaml: yaml, file: "Scenarios/a.yaml").first)
            return builtin.unsupportedReason(for: scenario, settings: RunConfiguration())
        }
        let missing = RspamdSetup.detect().missingReason
        #expect(try reason("[rspamd]") == missing)
        #expect(try reason("[policyd-spf, rspamd]") == missing)
        #expect(try reason("[policyd-spf]") == nil)
    }

    @Test func unknownNamesAndKeysListTheKinds() {
        #expect(
            loadProblems(formatExample("  hostname: mx.example.test", "  hostnme: mx.example.test"), kinds: kinds) == [
                "Scenarios/rdns.yaml:17:3: receiver.hostnme: unknown key \"hostnme\" (known here: hostname, addresses, target, policy, postfix, postfix_dir, exim, exec, bare_newline, proxy_protocol, xclient_hosts, tls, engines, rspamd, resolver); did you mean \"hostname\"?"
            ])
        #expect(
            loadProblems(
                formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  target: qmail"), kinds: kinds) == [
                    "Scenarios/rdns.yaml:20:11: receiver.target: unknown receiver target \"qmail\" (known: builtin, postfix, exim, opensmtpd, exec)"
                ])
        #expect(
            loadProblems(
                formatExample("  helo: mail.sender.test", "  helo: mail.sender.test\n  mta: sendmail"), kinds: kinds)
                == [
                    "Scenarios/rdns.yaml:24:8: sender.mta: unknown sending MTA \"sendmail\" (known: builtin, postfix, exim)"
                ])
        #expect(
            loadProblems(
                formatExample("  helo: mail.sender.test", "  helo: mail.sender.test\n  eximm: {a: b}"), kinds: kinds)
                == [
                    "Scenarios/rdns.yaml:24:3: sender.eximm: unknown key \"eximm\" (known here: addresses, prefer, helo, mail_from, rcpt_to, relay, message, mta, postfix, exim, dkim, proxy, identity, proxy_address, xclient_name, tls, resolver); did you mean \"exim\"?"
                ])
    }

    @Test func theRepositoryScenariosLoad() throws {
        // Tests/CatalogTests/StandardCatalogTests.swift → the package root.
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let folder = root.appendingPathComponent("Scenarios").path
        try #require(FileManager.default.fileExists(atPath: folder), "no Scenarios folder at \(folder)")
        let cases = try ScenarioLoader(kinds: kinds).load(paths: [folder])
        #expect(cases.map(\.name).contains("ipv6-sender-without-ptr"))
        #expect(cases.map(\.name).contains("ipv6-sender-with-fcrdns"))
        #expect(cases.contains { $0.sender.mta?.rawValue == "exim" })
    }
}
