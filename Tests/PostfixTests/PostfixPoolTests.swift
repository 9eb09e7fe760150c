#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MXHarnessTestKit
import Postfix
import Runner
import RunnerTestKit
import Sandbox
import Scenario
import Testing

/// Postfix cases with the same configuration on one running instance (`PostfixPool`): the same
/// results as fresh instances, whatever the previous case's world was, and nothing left after.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixPoolTests {
    /// One receiver configuration (mx.example.test on 192.0.2.10, policy CHECKS) and a sender on
    /// 203.0.113.25 whose world is given by EXTRA records.
    static func scenario(_ name: String, checks: String, extra: [String], expect: String, postfix: String = "{}") throws
        -> ScenarioCase
    {
        let records =
            [
                "example.test. MX 10 mx.example.test.",
                "mx.example.test. A 192.0.2.10",
            ] + extra
        let yaml = """
            name: \(name)
            dns:
              records:
            \(records.map { "    - \($0)" }.joined(separator: "\n"))
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10]
              target: postfix
              policy: {checks: [\(checks)], on_fail: reject}
              postfix: \(postfix)
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: a@sender.test
              rcpt_to: [b@example.test]
            expect: \(expect)
            """
        return try #require(try ScenarioLoader(kinds: postfixKinds).load(yaml: yaml, file: "\(name).yaml").first)
    }

    static let forwardConfirmed = ["mail.sender.test. A 203.0.113.25", "203.0.113.25 PTR mail.sender.test."]
    static let good = "{outcome: delivered, family: ipv4}"
    static let rejected = "{outcome: bounced, stage: rcpt, code: 550}"

    /// Good FCrDNS (delivered) and no PTR at all (550 at RCPT), same receiver configuration.
    static func fcrdnsPair() throws -> (good: ScenarioCase, bad: ScenarioCase) {
        (
            try scenario("fcrdns-good", checks: "fcrdns", extra: forwardConfirmed, expect: good),
            try scenario("fcrdns-none", checks: "fcrdns", extra: ["mail.sender.test. A 203.0.113.25"], expect: rejected)
        )
    }

    static func fingerprint(_ result: CaseResult) -> String {
        let observed = result.observed
        return [
            result.name, result.status.label, observed?.outcome.rawValue ?? "-", observed?.stage?.rawValue ?? "-",
            observed?.reply.map { "\($0.code) \($0.enhanced ?? "")" } ?? "-",
        ].joined(separator: " ")
    }

    /// Runs `cases` one at a time on one pool, closes it and returns the results and its statistics.
    static func runShared(_ cases: [ScenarioCase], jobs: Int = 1) async -> ([CaseResult], PostfixPool.Statistics) {
        let pool = PostfixPool(capacity: 2)
        let runner = CaseRunner(configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(pool: pool)))
        let results = await ScenarioRun(runner: runner, jobs: jobs).run(cases)
        let statistics = await pool.statistics
        await pool.close()
        #expect(await pool.runningHosts == 0)
        expectGone(await pool.started, cases: results)
        return (results, statistics)
    }

    static func runFresh(_ cases: [ScenarioCase]) async -> [CaseResult] {
        await ScenarioRun(
            runner: CaseRunner(
                configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(sharing: false))), jobs: 1
        ).run(cases)
    }

    @Test func twoCasesWithTheSameConfigurationShareOneInstanceAndGetWhatFreshOnesGet() async throws {
        let (good, bad) = try Self.fcrdnsPair()
        let (shared, statistics) = await Self.runShared([good, bad])
        #expect(statistics.instancesStarted == 1, "\(statistics)")
        #expect(statistics.reuses == 1, "\(statistics)")
        #expect(statistics.retired == 0, "the instance settled after each case: \(statistics)")
        #expect(
            shared.map { $0.receiverInstance?.instance } == [
                shared[0].receiverInstance?.instance, shared[0].receiverInstance?.instance,
            ])
        #expect(shared.map { $0.receiverInstance?.reused } == [false, true])
        let fresh = await Self.runFresh([good, bad])
        #expect(
            fresh[0].receiverInstance?.instance != fresh[1].receiverInstance?.instance,
            "one instance per case without sharing")
        #expect(fresh.allSatisfy { $0.receiverInstance?.isShared == false })
        #expect(shared.map(Self.fingerprint) == fresh.map(Self.fingerprint))
        #expect(shared.allSatisfy { $0.status == .passed }, "\(shared.map { "\($0.status) \($0.mismatches)" })")
    }

    @Test(arguments: [false, true])
    func theWorldChangesBetweenCasesOnOneInstance(reversed: Bool) async throws {
        let (good, bad) = try Self.fcrdnsPair()
        let cases = reversed ? [bad, good] : [good, bad]
        let (results, statistics) = await Self.runShared(cases)
        #expect(statistics.instancesStarted == 1, "\(statistics)")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0) })
        #expect(byName["fcrdns-good"]?.observed?.outcome == .delivered, "\(byName["fcrdns-good"]?.mismatches ?? [])")
        #expect(byName["fcrdns-none"]?.observed?.outcome == .bounced)
        #expect(byName["fcrdns-none"]?.observed?.reply?.code == 550)
        #expect(byName["fcrdns-none"]?.receiverLog.contains("NOQUEUE: reject: RCPT from unknown[203.0.113.25]") == true)
    }

    @Test func aDNSBLAnswerDoesNotCarryOverToTheNextCase() async throws {
        // The same client address, listed in case A's world and not in case B's: an smtpd that
        // served A would answer B from its DNSBL cache (smtpd_rbl_cache) if it served B too.
        let listed = try Self.scenario(
            "listed", checks: "\"dnsbl:bl.example.test\"",
            extra: Self.forwardConfirmed + ["25.113.0.203.bl.example.test. A 127.0.0.2"],
            expect: "{outcome: bounced, stage: rcpt, code: 554}")
        let unlisted = try Self.scenario(
            "unlisted", checks: "\"dnsbl:bl.example.test\"", extra: Self.forwardConfirmed, expect: Self.good)
        let (results, statistics) = await Self.runShared([listed, unlisted, listed, unlisted])
        #expect(statistics.instancesStarted == 1, "\(statistics)")
        #expect(results.map(\.status) == [.passed, .passed, .passed, .passed], "\(results.map(Self.fingerprint))")
        #expect(results.map { $0.observed?.outcome } == [.bounced, .delivered, .bounced, .delivered])
    }

    @Test func aCaseSeesOnlyItsOwnLogLines() async throws {
        let (good, bad) = try Self.fcrdnsPair()
        let (results, _) = await Self.runShared([bad, good])
        let first = results[0].receiverLog, second = results[1].receiverLog
        #expect(first.contains("NOQUEUE: reject: RCPT from unknown[203.0.113.25]"), "\(first)")
        #expect(second.contains("connect from mail.sender.test[203.0.113.25]"), "\(second)")
        #expect(!second.contains("reject:"), "case B's log holds case A's rejection: \(second)")
        let firstLines = Set(first.split(separator: "\n"))
        #expect(
            second.split(separator: "\n").allSatisfy { !firstLines.contains($0) }, "a line of case A in case B's log")
    }

    @Test func aConfigurationWithARateLimitGetsAnInstanceOfItsOwn() async throws {
        let limited = try Self.scenario(
            "limited", checks: "fcrdns", extra: Self.forwardConfirmed, expect: Self.good,
            postfix: "{smtpd_client_connection_rate_limit: \"5\"}")
        let (results, statistics) = await Self.runShared([limited, limited])
        #expect(statistics.instancesStarted == 0, "\(statistics)")
        #expect(statistics.privateInstances == 2, "\(statistics)")
        #expect(results[0].receiverInstance?.instance != results[1].receiverInstance?.instance)
        #expect(
            results.allSatisfy { $0.receiverInstance?.privateReason?.contains("anvil") == true },
            "\(results.map(\.receiverInstance))")
        #expect(results.allSatisfy { $0.status == .passed }, "\(results.map(Self.fingerprint))")
    }

    @Test func nothingOfTheRunIsLeftAfterThePoolCloses() async throws {
        let (good, bad) = try Self.fcrdnsPair()
        let pool = PostfixPool(capacity: 1)
        let runner = CaseRunner(configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(pool: pool)))
        let results = await ScenarioRun(runner: runner, jobs: 2).run([good, bad, good, bad])
        #expect(results.allSatisfy { $0.status == .passed }, "\(results.map(Self.fingerprint))")
        let hosts = await pool.started
        #expect(Set(results.compactMap(\.namespaceName)) == Set(hosts.map(\.namespace)))
        for result in results {
            if let directory = result.workDirectory {
                #expect(!FileManager.default.fileExists(atPath: directory), "case folder left")
            }
        }
        #expect(
            hosts.contains { FileManager.default.fileExists(atPath: "/run/netns/" + $0.namespace) },
            "an idle host outlives its cases")
        await pool.close()
        Self.expectGone(hosts, cases: results)
    }

    @Test func closingThePoolWhileACaseHoldsAHostStopsItToo() async throws {
        let (good, _) = try Self.fcrdnsPair()
        let pool = PostfixPool(capacity: 1)
        let runner = CaseRunner(configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(pool: pool)))
        let task = Task { await runner.run(good) }
        // Close as soon as the case holds its host: the case ends in an error or a result, and
        // nothing is left either way.
        while await pool.runningHosts == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await pool.close()
        let result = await task.value
        #expect(await pool.started.count == 1)
        await Self.expectGone(pool.started)
        if let directory = result.workDirectory { #expect(!FileManager.default.fileExists(atPath: directory)) }
    }

    /// No namespace, /etc/netns folder, host folder or process (Postfix's daemons work in the
    /// queue directory, inside the host folder; unbound's configuration is in the case folder) of
    /// `hosts` and `cases` is left.
    static func expectGone(
        _ hosts: [PostfixPool.HostRecord], cases: [CaseResult] = [],
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let fm = FileManager.default
        for host in hosts {
            #expect(
                !fm.fileExists(atPath: "/run/netns/" + host.namespace), "namespace \(host.namespace) left",
                sourceLocation: sourceLocation)
            #expect(
                !fm.fileExists(atPath: "/etc/netns/" + host.namespace), "/etc/netns/\(host.namespace) left",
                sourceLocation: sourceLocation)
            #expect(
                !fm.fileExists(atPath: host.directory), "host folder \(host.directory) left",
                sourceLocation: sourceLocation)
        }
        let folders = hosts.map(\.directory) + cases.compactMap(\.workDirectory)
        let left = LiveProcess.all().filter { process in
            let cwd = process.workingDirectory ?? ""
            return folders.contains { cwd.hasPrefix($0) || process.commandLine.contains($0 + "/") }
        }
        #expect(left.isEmpty, "processes of the run left: \(left)", sourceLocation: sourceLocation)
    }
}
