import ExecMX
import Foundation
import MXHarnessTestKit
import Runner
import Scenario
import Testing

/// `receiver.exec`, the exec receiver's key: what it loads into, its errors with file:line:column,
/// `target: exec` without it, and how `explain` writes it.
@Suite struct ExecScenarioKeysTests {
    /// The format's core names with the exec receiver's name and key.
    static let kinds = ScenarioKinds(
        receivers: ScenarioKinds.core.receivers + [.exec], senders: ScenarioKinds.core.senders,
        keys: ExecReceivers().scenarioKeys)

    func example(_ old: String, _ new: String) -> String {
        #expect(formatExample.contains(old))
        return formatExample.replacingOccurrences(of: old, with: new)
    }

    func loadErrors(yaml: String) -> [String] {
        do {
            let cases = try ScenarioLoader(kinds: Self.kinds).load(yaml: yaml, file: "Scenarios/rdns.yaml")
            Issue.record("expected the load to fail, it gave \(cases.count) case(s)")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test func execLoadsWithItsDefaultsAndExplainsItself() throws {
        let yaml = example(
            "  policy: fcrdns-strict",
            "  policy: fcrdns-strict\n  target: exec\n  exec: {start: \"my-mta -c {config_dir}/my.conf\"}")
        let c = try #require(try ScenarioLoader(kinds: Self.kinds).load(yaml: yaml, file: "Scenarios/rdns.yaml").first)
        #expect(
            c.receiver.exec
                == ExecReceiverSpec(start: "my-mta -c {config_dir}/my.conf", ready: .smtpBanner, stop: .signal))
        #expect(
            explain(c).contains(
                "  exec:\n    start: my-mta -c {config_dir}/my.conf\n    ready: smtp-banner\n    stop: signal\n"))
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
        #expect(
            loadErrors(yaml: example("  policy: fcrdns-strict", "  policy: fcrdns-strict\n  exec: [x]")) == [
                "Scenarios/rdns.yaml:20:9: receiver.exec: expected how to run your MX ({start: COMMAND, ready: smtp-banner, stop: signal}) (a map of keys), found a list"
            ])
    }
}
