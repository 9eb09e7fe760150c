import Exim
import Runner
import RunnerTestKit
import Scenario
import Testing
import MXHarnessTestKit

/// `target: exim`, `mta: exim`, `receiver.exim` and `sender.exim`: what a loader given the Exim
/// kinds reads, defaults, explains and reports (file:line:column), and a loader without them
/// does not know.
@Suite struct EximScenarioKeyTests {
    let kinds = eximKinds

    func load(_ yaml: String) throws -> ScenarioCase {
        try #require(try ScenarioLoader(kinds: kinds).load(yaml: yaml, file: "Scenarios/rdns.yaml").first)
    }

    static let site = """
          policy: fcrdns-strict
          target: exim
          exim:
            main: {smtp_receive_timeout: 2m}
            acl_rcpt: |
              deny hosts = 198.51.100.0/24
        """

    @Test func receiverSettingsLoad() throws {
        let c = try load(formatExample("  policy: fcrdns-strict", Self.site))
        #expect(c.receiver.target == .exim)
        #expect(c.receiver.exim.main == ["smtp_receive_timeout": "2m"])
        #expect(c.receiver.exim.acls == [.rcpt: "deny hosts = 198.51.100.0/24\n"])
    }

    @Test func absentKeysDefaultToEmpty() throws {
        let c = try load(formatExample)
        #expect(c.receiver.exim.isEmpty)
        #expect(c.sender.exim.isEmpty)
        #expect(c.receiver.settings.isEmpty && c.sender.settings.isEmpty)
    }

    @Test func receiverErrorsNameTheKey() {
        #expect(
            loadProblems(
                formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exim: {acl_rcp: x}"), kinds: kinds)
                == [
                    "Scenarios/rdns.yaml:20:10: receiver.exim.acl_rcp: unknown key \"acl_rcp\" (known here: main, acl_connect, acl_helo, acl_mail, acl_rcpt, acl_data); did you mean \"acl_rcpt\"?"
                ])
        #expect(
            loadProblems(
                formatExample("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exim: {main: {Bad-Name: x}}"),
                kinds: kinds) == [
                    "Scenarios/rdns.yaml:20:16: receiver.exim.main.Bad-Name: \"Bad-Name\" is not an Exim option name (lower-case letters, digits and _)"
                ])
        #expect(
            loadProblems(
                formatExample(
                    "  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exim: {acl_data: \"begin routers\"}"),
                kinds: kinds) == [
                    "Scenarios/rdns.yaml:20:20: receiver.exim.acl_data: \"begin routers\": ACL statements cannot start a new section of the configuration"
                ])
    }

    @Test func senderOptionsAreKeptAsWritten() throws {
        let c = try load(
            formatExample(
                "  helo: mail.sender.test", "  helo: mail.sender.test\n  mta: exim\n  exim:\n    hosts_max_try: 10"))
        #expect(c.sender.mta == .exim)
        #expect(c.sender.exim == ["hosts_max_try": "10"])
        #expect(
            loadProblems(
                formatExample("  helo: mail.sender.test", "  helo: mail.sender.test\n  exim: [a]"), kinds: kinds) == [
                    "Scenarios/rdns.yaml:24:9: sender.exim: expected Exim transport options (a map of names to values), found a list"
                ])
    }

    /// `explain` writes both keys, and what it writes loads back as the same settings.
    @Test func explainWritesThemBack() throws {
        let yaml = formatExample("  policy: fcrdns-strict", Self.site)
            .replacingOccurrences(
                of: "  helo: mail.sender.test", with: "  helo: mail.sender.test\n  exim: {hosts_max_try: 10}")
        let c = try load(yaml)
        let text = explain(c)
        #expect(text.contains("  exim:\n    main:\n      smtp_receive_timeout: 2m\n    acl_rcpt: "), "\(text)")
        #expect(text.contains("  exim:\n    hosts_max_try: 10\n"), "\(text)")
        let back = try load(text)
        #expect(back.receiver.exim == c.receiver.exim)
        #expect(back.sender.exim == c.sender.exim)
    }

    /// Without the Exim kinds the names and keys are unknown, as any other.
    @Test func aLoaderWithoutTheKindsDoesNotKnowThem() {
        let problems = loadProblems(formatExample("  policy: fcrdns-strict", Self.site), kinds: .core)
        #expect(
            problems == [
                "Scenarios/rdns.yaml:20:11: receiver.target: unknown receiver target \"exim\" (known: builtin, postfix)",
                "Scenarios/rdns.yaml:21:3: receiver.exim: unknown key \"exim\" (known here: hostname, addresses, target, policy, bare_newline, proxy_protocol, xclient_hosts, tls, engines, rspamd, resolver)",
            ], "\(problems)")
    }
}
