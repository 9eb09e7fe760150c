#if canImport(Glibc)
import Glibc
#endif
import DNSCore
import Foundation
import MXHarnessTestKit
import Policy
import Runner
import RunnerTestKit
import Sandbox
import Scenario
import Testing

@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct FakeReceiverTests {
    static func scenario(expect: String) throws -> ScenarioCase {
        let yaml = """
            name: greeting-only
            dns:
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. AAAA 2001:db8::10
            receiver:
              addresses: ["2001:db8::10"]
            sender:
              addresses: {ipv6: "2001:db8:5::25"}
              helo: mail.sender.test
              mail_from: alice@sender.test
              rcpt_to: bob@example.test
            expect: \(expect)
            """
        var scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "greeting-only.yaml").first)
        scenario.receiver.target = GreetingOnlyReceivers.target
        return scenario
    }

    @Test func aReceiverDefinedOutsideTheRunnerRunsThroughTheWholePath() async throws {
        let journal = GreetingOnlyReceivers.Journal()
        let parts = builtinParts.adding(GreetingOnlyReceivers(greeting: "554 5.7.1 go away", journal: journal))
        let runner = CaseRunner(configuration: RunConfiguration(), parts: parts)
        let scenario = try Self.scenario(
            expect: "{outcome: deferred, family: ipv6, stage: greeting, code: 554, enhanced: 5.7.1}")

        let results = await ScenarioRun(runner: runner, jobs: 2).run([scenario, scenario])
        for result in results {
            #expect(result.status == .passed, "\(result.status) \(result.mismatches)")
            #expect(result.target == GreetingOnlyReceivers.target)
            #expect(
                result.receiverLog == "greeting-only: 1 connection(s) from 2001:db8:5::25",
                "the receiver's own evidence reaches the result")
            WalkingSkeletonTests.expectGone(result)
        }
        #expect(journal.all.filter { $0 == "start" }.count == 2)
        #expect(journal.all.filter { $0 == "stop clean=true" }.count == 2, "stopped once per case: \(journal.all)")
    }

    @Test func aWrongExpectationFailsAndAPolicyItCannotExpressIsSkipped() async throws {
        let journal = GreetingOnlyReceivers.Journal()
        let parts = builtinParts.adding(GreetingOnlyReceivers(greeting: "421 4.3.2 busy", journal: journal))
        let runner = CaseRunner(configuration: RunConfiguration(), parts: parts)

        let failed = await runner.run(try Self.scenario(expect: "{outcome: deferred, code: 554}"))
        #expect(failed.status == .failed)
        #expect(failed.mismatches.map(\.description) == ["code: expected 554, got 421"])

        var strict = try Self.scenario(expect: "{outcome: bounced}")
        strict.receiver.policy = Preset.fcrdns.policy
        let skipped = await runner.run(strict)
        #expect(skipped.status == .skipped("greeting-only receivers apply no policy"))
        #expect(
            journal.all == ["start", "evidence", "stop clean=true"], "a skipped case starts nothing: \(journal.all)")
    }

    @Test func aTargetWithoutAPartIsSkippedWithTheReason() async throws {
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(
            try Self.scenario(expect: "{outcome: delivered}"))
        #expect(result.status == .skipped("no greeting-only receiver in this build of mxharness"))
    }
}
