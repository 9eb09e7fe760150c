import DNSCore
import Foundation
import ReferenceMX
import Runner
import Scenario
import Sender
import Testing

/// The parts every build has: the built-in MX as the receiver and the delivery model as the
/// sender. Tests of another kind add it (`PartCatalog.adding`).
public let builtinParts = PartCatalog(receivers: [BuiltinMXReceivers()], senders: [ModelSenders()])

/// The format's core names with the built-in parts' own keys (the delivery model's
/// `sender.postfix`): what a test loads library or reproduction files with.
public let builtinKinds = ScenarioKinds(
    receivers: ScenarioKinds.core.receivers, senders: ScenarioKinds.core.senders,
    keys: builtinParts.scenarioKinds.keys)

/// `scenario` run once through `CaseRunner` with `parts`.
public func runOne(
    _ scenario: ScenarioCase, _ configuration: RunConfiguration = RunConfiguration(), parts: PartCatalog = builtinParts
) async -> CaseResult {
    await CaseRunner(configuration: configuration, parts: parts).run(scenario)
}

/// One receiver on 192.0.2.10 and 2001:db8::10 with TARGET and EXTRA receiver keys; a sender on
/// 203.0.113.25 (and 2001:db8:5::25 when `dualStack`) whose world is RECORDS, loaded with
/// `kinds` (the receiver kind's name and keys).
public func realReceiverScenario(
    _ name: String, kinds: ScenarioKinds = builtinKinds, target: String, policy: String, records: [String],
    receiverExtra: String = "",
    faults: String = "[]",
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
    return try #require(try ScenarioLoader(kinds: kinds).load(yaml: yaml, file: "/tmp/\(name).yaml").first)
}

/// `delivered data 250 2.0.0`, or the status when the case did not run.
public func observed(_ result: CaseResult) -> String {
    guard let observed = result.observed else { return "\(result.status.label) \(result.status)" }
    return [
        observed.outcome.rawValue, observed.stage?.rawValue ?? "-",
        observed.reply.map { "\($0.code) \($0.enhanced ?? "-")" } ?? "-",
    ]
    .joined(separator: " ")
}

/// A sender world whose reverse DNS confirms mail.sender.test, and one without a PTR.
public let confirmed = ["mail.sender.test. A 203.0.113.25", "203.0.113.25 PTR mail.sender.test."]
public let noPTR = ["mail.sender.test. A 203.0.113.25"]

/// `scenario` run once through `CaseRunner` with `parts` (the catalog first, for long scenarios).
public func runOne(
    parts: PartCatalog, _ scenario: ScenarioCase, _ configuration: RunConfiguration = RunConfiguration()
) async -> CaseResult {
    await CaseRunner(configuration: configuration, parts: parts).run(scenario)
}

/// The case, its verdict and outcome, and where and with what reply each attempt ended.
public func attemptsFingerprint(_ result: CaseResult) -> [String] {
    var parts = [result.name, result.status.label, result.observed?.outcome.rawValue ?? "-"]
    for attempt in result.delivery?.attempts ?? [] {
        parts.append(
            "\(attempt.remoteAddress) \(attempt.result) \(attempt.stage) \(attempt.reply.map { "\($0.code) \($0.enhanced ?? "")" } ?? "-") \(attempt.error ?? "")"
        )
    }
    return parts
}

/// Two equal-preference dual-stack MX hosts answering 450 to IPv6 clients without a PTR.
public func twoEqualMX(_ name: String, target: String, postfix: String = "{}", expect: String) throws -> ScenarioCase {
    let yaml = """
        name: \(name)
        dns:
          records:
            - example.test. MX 10 mx1.example.test.
            - example.test. MX 10 mx2.example.test.
            - mx1.example.test. A 192.0.2.11
            - mx1.example.test. AAAA 2001:db8::11
            - mx2.example.test. A 192.0.2.12
            - mx2.example.test. AAAA 2001:db8::12
            - mail.sender.test. A 203.0.113.25
            - mail.sender.test. AAAA 2001:db8:5::25
            - 203.0.113.25 PTR mail.sender.test.
        receiver:
          hostname: mx.example.test
          addresses: [192.0.2.11, 192.0.2.12, "2001:db8::11", "2001:db8::12"]
          target: \(target)
          policy: {checks: [fcrdns], on_fail: defer}
        sender:
          addresses: {ipv4: 203.0.113.25, ipv6: "2001:db8:5::25"}
          helo: mail.sender.test
          mail_from: alice@sender.test
          rcpt_to: [bob@example.test]
          postfix: \(postfix)
        expect: \(expect)
        """
    return try #require(try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "\(name).yaml").first)
}

/// What loading `yaml` as Scenarios/rdns.yaml with `kinds` reports, one line per problem (none
/// when it loads).
public func loadProblems(_ yaml: String, kinds: ScenarioKinds) -> [String] {
    do {
        _ = try ScenarioLoader(kinds: kinds).load(yaml: yaml, file: "Scenarios/rdns.yaml")
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}
