import DNSCore
import Foundation
import MXHarnessTestKit
@_spi(Testing) import Postfix
import Runner
import RunnerTestKit
import Scenario
import Testing

/// One pooled Postfix must be indistinguishable from a fresh one per case: random sequences of
/// worlds that differ in records, faults, DNSBL listings, sender addresses and restriction lists
/// (so the instance is reloaded between them) go through one host, and every case must end
/// exactly as it does on a Postfix of its own in a namespace of its own. Each planted leak (the
/// previous world left in the host's unbound; a reload that keeps the previous restriction lists
/// running) must be caught by the same comparison.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixWarmIsolationTests {
    static let confirmed25 = ["mail.sender.test. A 203.0.113.25", "203.0.113.25 PTR mail.sender.test."]

    /// One receiver (mx.example.test on 192.0.2.10); worlds that would each end differently if
    /// anything of another one reached them.
    static let worlds: [(name: String, sender: String, policy: String, records: [String], faults: String)] = [
        ("confirmed-fcrdns", "203.0.113.25", "{checks: [fcrdns], on_fail: reject}", confirmed25, "[]"),
        (
            "no-ptr-fcrdns", "203.0.113.25", "{checks: [fcrdns], on_fail: reject}",
            ["mail.sender.test. A 203.0.113.25"], "[]"
        ),
        (
            "no-ptr-defer", "203.0.113.25", "{checks: [fcrdns], on_fail: defer}", ["mail.sender.test. A 203.0.113.25"],
            "[]"
        ),
        (
            "listed", "203.0.113.25", "{checks: [\"dnsbl:bl.example.test\"], on_fail: reject}",
            confirmed25 + ["25.113.0.203.bl.example.test. A 127.0.0.2"], "[]"
        ),
        ("unlisted", "203.0.113.25", "{checks: [\"dnsbl:bl.example.test\"], on_fail: reject}", confirmed25, "[]"),
        (
            "ptr-servfail", "203.0.113.25", "{checks: [fcrdns], on_fail: reject}", confirmed25,
            "[{name: 25.113.0.203.in-addr.arpa, fault: servfail}]"
        ),
        ("other-sender-open", "203.0.113.26", "open", [], "[]"),
        ("other-sender-helo", "203.0.113.26", "{checks: [helo-resolves], on_fail: reject}", [], "[]"),
    ]

    static func scenario(_ world: (name: String, sender: String, policy: String, records: [String], faults: String))
        throws -> ScenarioCase
    {
        let records = ["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10"] + world.records
        let yaml = """
            name: \(world.name)
            dns:
              records: [\(records.map { "\"\($0)\"" }.joined(separator: ", "))]
              faults: \(world.faults)
            receiver: {hostname: mx.example.test, addresses: [192.0.2.10], target: postfix, policy: \(world.policy)}
            sender: {addresses: {ipv4: \(world.sender)}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]}
            expect: {}
            """
        return try #require(try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "\(world.name).yaml").first)
    }

    /// Everything a leak could change: as on the built-in MX's warm slots.
    static func fingerprint(_ result: CaseResult) -> String {
        attemptsFingerprint(result).joined(separator: " | ")
    }

    /// What every world gives on a fresh Postfix in a fresh namespace.
    static func freshFingerprints() async throws -> [String: String] {
        let fresh = CaseRunner(configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(sharing: false)))
        var expected: [String: String] = [:]
        for scenario in try worlds.map(scenario) { expected[scenario.name] = fingerprint(await fresh.run(scenario)) }
        return expected
    }

    /// Runs a seeded random sequence through one pooled host; returns the cases whose fingerprint
    /// differs from the fresh one's, and the pool's statistics.
    static func divergences(
        expected: [String: String], plantedLeak: PostfixPool.PlantedLeak?, seed: UInt64, length: Int
    ) async throws -> (differing: [String], statistics: PostfixPool.Statistics) {
        let scenarios = try worlds.map(scenario)
        let pool = plantedLeak.map { PostfixPool(capacity: 1, plantedLeak: $0) } ?? PostfixPool(capacity: 1)
        let runner = CaseRunner(configuration: RunConfiguration(), parts: postfixParts(PostfixReceivers(pool: pool)))
        var generator = SeededGenerator(seed: seed)
        var differing: [String] = []
        for _ in 0..<length {
            let scenario = scenarios.randomElement(using: &generator)!
            let got = fingerprint(await runner.run(scenario))
            if got != expected[scenario.name] {
                differing.append("\(scenario.name): fresh \(expected[scenario.name] ?? "?") / pooled \(got)")
            }
        }
        let statistics = await pool.statistics
        await pool.close()
        PostfixPoolTests.expectGone(await pool.started)
        return (differing, statistics)
    }

    @Test func randomSequencesThroughOneInstanceEndAsOnFreshOnes() async throws {
        let expected = try await Self.freshFingerprints()
        // Each world ends its own way, or a leak could go unseen.
        #expect(Set(expected.values.map { $0.split(separator: "|").dropFirst().joined() }).count >= 5, "\(expected)")
        for seed in [1, 2] as [UInt64] {
            let (differing, statistics) = try await Self.divergences(
                expected: expected, plantedLeak: nil, seed: seed, length: 16)
            #expect(differing.isEmpty, "seed \(seed):\n\(differing.joined(separator: "\n"))")
            #expect(statistics.instancesStarted == 1, "one instance served the whole sequence: \(statistics)")
            #expect(statistics.reloads > 0 && statistics.failedReloads == 0 && statistics.retired == 0, "\(statistics)")
        }
        for leak in [PostfixPool.PlantedLeak.previousWorld, .previousConfiguration] {
            let (differing, _) = try await Self.divergences(expected: expected, plantedLeak: leak, seed: 1, length: 16)
            #expect(!differing.isEmpty, "the planted leak \(leak) must change some case's ending")
        }
    }
}
