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

/// A receiver that exists only here: it answers every connection with one fixed greeting and
/// hangs up. Plugging it in takes a `PartCatalog` entry and nothing else: the runner, the
/// reports and the matrix know nothing of it.
struct GreetingOnlyReceivers: ReceiverKind {
    static let target = ReceiverTarget(named: "greeting-only")
    var target: ReceiverTarget { Self.target }
    let greeting: String
    let journal: Journal

    /// What the test wants to know of the parts' lives.
    final class Journal: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [String] = []
        func note(_ event: String) { lock.withLock { events.append(event) } }
        var all: [String] { lock.withLock { events } }
    }

    func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        scenario.receiver.policy == Preset.open.policy ? nil : "greeting-only receivers apply no policy"
    }

    func makeReceiver(for scenario: ScenarioCase, settings: RunConfiguration) -> any Receiver {
        GreetingOnlyReceiver(greeting: greeting, journal: journal)
    }
}

final class GreetingOnlyReceiver: Receiver, @unchecked Sendable {
    let greeting: String
    let journal: GreetingOnlyReceivers.Journal
    private var sockets: [CInt] = []
    private var threads: [Thread] = []
    private let served = GreetingOnlyReceivers.Journal()

    init(greeting: String, journal: GreetingOnlyReceivers.Journal) {
        self.greeting = greeting
        self.journal = journal
    }

    func start(in environment: CaseEnvironment) async throws {
        journal.note("start")
        for address in environment.scenario.receiver.addresses {
            let fd = try await Sockets.listen(on: address, port: 25, in: environment.namespace)
            sockets.append(fd)
            let line = Array((greeting + "\r\n").utf8)
            let served = self.served
            let thread = Thread {
                while true {
                    let client = accept(fd, nil, nil)
                    guard client >= 0 else { return }
                    _ = line.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                    served.note("served")
                    close(client)
                }
            }
            thread.start()
            threads.append(thread)
        }
    }

    func evidence(of clients: [IPAddress]) async -> any ReceiverEvidence {
        journal.note("evidence")
        return LogEvidence(
            log:
                "greeting-only: \(served.all.count) connection(s) from \(clients.map(\.description).joined(separator: ", "))"
        )
    }

    func stop(clean: Bool) async {
        journal.note("stop clean=\(clean)")
        // shutdown wakes the accept loops; then the sockets go.
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        for fd in sockets { close(fd) }
        sockets = []
    }
}

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
        var scenario = try #require(try ScenarioLoader().load(yaml: yaml, file: "greeting-only.yaml").first)
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
