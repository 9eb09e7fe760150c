import Foundation
import Scenario
import Testing

/// `receiver.exim` and `receiver.exec`: what they load into, and their errors with file:line:column.
@Suite struct ReceiverExtrasTests {
    func example(_ old: String, _ new: String) -> String {
        #expect(specExample.contains(old))
        return specExample.replacingOccurrences(of: old, with: new)
    }

    @Test func eximSettingsLoad() throws {
        let yaml = example(
            "  policy: fcrdns-strict",
            """
              policy: fcrdns-strict
              target: exim
              exim:
                main: {smtp_receive_timeout: 2m}
                acl_rcpt: |
                  deny hosts = 198.51.100.0/24
            """)
        let c = try #require(try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml").first)
        #expect(c.receiver.target == .exim)
        #expect(c.receiver.exim.main == ["smtp_receive_timeout": "2m"])
        #expect(c.receiver.exim.acls == [.rcpt: "deny hosts = 198.51.100.0/24\n"])
    }

    @Test func eximErrorsNameTheKey() {
        #expect(
            loadErrors(yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exim: {acl_rcp: x}")) == [
                "Scenarios/rdns.yaml:20:10: receiver.exim.acl_rcp: unknown key \"acl_rcp\" (known here: main, acl_connect, acl_helo, acl_mail, acl_rcpt, acl_data); did you mean \"acl_rcpt\"?"
            ])
        #expect(
            loadErrors(
                yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exim: {main: {Bad-Name: x}}")) == [
                    "Scenarios/rdns.yaml:20:16: receiver.exim.main.Bad-Name: \"Bad-Name\" is not an Exim option name (lower-case letters, digits and _)"
                ])
        #expect(
            loadErrors(
                yaml: example(
                    "  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exim: {acl_data: \"begin routers\"}")) == [
                    "Scenarios/rdns.yaml:20:20: receiver.exim.acl_data: \"begin routers\": ACL statements cannot start a new section of the configuration"
                ])
    }

    @Test func execLoadsWithItsDefaults() throws {
        let yaml = example(
            "  policy: fcrdns-strict",
            "  policy: fcrdns-strict\n  target: exec\n  exec: {start: \"my-mta -c {config_dir}/my.conf\"}")
        let c = try #require(try ScenarioLoader().load(yaml: yaml, file: "Scenarios/rdns.yaml").first)
        #expect(
            c.receiver.exec
                == ExecReceiverSpec(start: "my-mta -c {config_dir}/my.conf", ready: .smtpBanner, stop: .signal))
    }

    @Test func execErrorsNameTheKey() {
        #expect(
            loadErrors(yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  target: exec")) == [
                "Scenarios/rdns.yaml:20:11: receiver.exec: target exec needs receiver.exec ({start: COMMAND, ready: smtp-banner, stop: signal})"
            ])
        #expect(
            loadErrors(
                yaml: example(
                    "  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exec: {start: x, ready: port-open}")) == [
                    "Scenarios/rdns.yaml:20:27: receiver.exec.ready: unknown readiness check \"port-open\" (known: smtp-banner)"
                ])
        #expect(
            loadErrors(
                yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exec: {ready: smtp-banner}")) == [
                    "Scenarios/rdns.yaml:20:9: receiver.exec.start: required key is missing: the shell command that starts your MX ({config_dir} and {addresses} are replaced)"
                ])
    }
}
