import Foundation
import MXHarnessTestKit
import Postfix
import Runner
import RunnerTestKit
import Sandbox
import Scenario
import Testing

/// A real Postfix as the sending MTA (`sender.mta: postfix`), on the built-in and the Postfix
/// receiver: the same verdicts as the built-in delivery model, and nothing left behind.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixSenderTests {
    static let deferredTwice =
        "{outcome: deferred, family: ipv6, stage: rcpt, code: 450, attempts: [{family: ipv6, result: tempfailed}, {family: ipv6, result: tempfailed}]}"
    static let deliveredOverIPv4 =
        "{outcome: delivered, family: ipv4, attempts: [{family: ipv6, result: tempfailed}, {family: ipv6, result: tempfailed}, {family: ipv4, result: accepted}]}"

    static func run(_ cases: [ScenarioCase], sender: SenderMTA) async -> [CaseResult] {
        await ScenarioRun(
            runner: CaseRunner(
                configuration: RunConfiguration(sender: sender), parts: postfixParts(PostfixReceivers(sharing: false))),
            jobs: 1
        ).run(cases)
    }

    @Test(arguments: ["builtin", "postfix"])
    func twoEqualMXGiveTheSameVerdictFromTheModelAndFromPostfix(target: String) async throws {
        let cases = [
            try twoEqualMX("session-limit", target: target, expect: Self.deferredTwice),
            try twoEqualMX(
                "raised-limit", target: target, postfix: "{smtp_mx_session_limit: 4}", expect: Self.deliveredOverIPv4),
        ]
        let model = await Self.run(cases, sender: .builtin)
        let real = await Self.run(cases, sender: .postfix)
        for result in model + real {
            #expect(
                result.status == .passed,
                "\(result.name) with the \(result.sender) sender on \(target): \(result.status) \(result.mismatches)")
        }
        #expect(real.allSatisfy { $0.sender == .postfix })
        for result in real {
            #expect(result.receiverLog.isEmpty == false || target == "builtin")
            if let directory = result.workDirectory { #expect(!FileManager.default.fileExists(atPath: directory)) }
            if let name = result.namespaceName {
                #expect(!FileManager.default.fileExists(atPath: "/etc/netns/\(name)"))
            }
        }
    }

    @Test func aDeferredMessageIsReportedAfterOneQueueRunWithTheQueueLeft() async throws {
        let scenario = try twoEqualMX("deferred", target: "builtin", expect: Self.deferredTwice)
        let result = try #require(await Self.run([scenario], sender: .postfix).first)
        #expect(result.status == .passed, "\(result.status) \(result.mismatches)")
        #expect(
            result.delivery?.note?.contains("left in the Postfix sender's queue: 1 message") == true,
            "\(result.delivery?.note ?? "no note")")
        // Reported after one queue run, not after a retry (queue_run_delay is an hour): the message
        // is still queued when the report is made, which the note says.
    }
}
