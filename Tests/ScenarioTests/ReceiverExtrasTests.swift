import Foundation
import Scenario
import Testing
import MXHarnessTestKit

/// `receiver.exec`: what it loads into, and their errors with file:line:column.
@Suite struct ReceiverExtrasTests {
    func example(_ old: String, _ new: String) -> String {
        #expect(formatExample.contains(old))
        return formatExample.replacingOccurrences(of: old, with: new)
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
