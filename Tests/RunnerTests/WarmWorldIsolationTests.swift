import DNSCore
import Foundation
import MXHarnessTestKit
import ReferenceMX
@_spi(Testing) import Runner
import RunnerTestKit
import Scenario
import Testing

/// A warm slot must be indistinguishable from a fresh world: random sequences of worlds that differ
/// in records, faults, DNSBL listings and addresses go through one slot, and every case must end
/// exactly as it does in a world of its own. A planted leak (the previous world left in place)
/// must be caught by the same comparison.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct WarmWorldIsolationTests {
    /// Worlds that would each end differently if anything of another one reached them.
    static let worlds: [(name: String, yaml: String)] = [
        (
            "confirmed",
            """
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                            "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]}
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict}
            """
        ),
        (
            "no-ptr",
            """
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10"]}
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict}
            """
        ),
        (
            "ptr-servfail",
            """
            dns:
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]
              faults: [{name: 5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa, fault: servfail}]
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict}
            """
        ),
        (
            "forward-nxdomain-fault",
            """
            dns:
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]
              faults: [{name: sender.test, fault: nxdomain}]
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict}
            """
        ),
        (
            "dnsbl-listed",
            """
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                            "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.8.b.d.0.1.0.0.2.bl.test. A 127.0.0.2"]}
            receiver: {addresses: ["2001:db8::10"], policy: {checks: ["dnsbl:bl.test"]}}
            """
        ),
        (
            "dnsbl-clean",
            """
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10"]}
            receiver: {addresses: ["2001:db8::10"], policy: {checks: ["dnsbl:bl.test"]}}
            """
        ),
        (
            "mx-moved",
            """
            dns: {records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::20"]}
            receiver: {addresses: ["2001:db8::20"]}
            """
        ),
        (
            "mx-address-gone",
            """
            dns: {records: ["example.test. MX 10 mx1.example.test.", "example.test. MX 20 mx2.example.test.",
                            "mx1.example.test. AAAA 2001:db8::10", "mx2.example.test. AAAA 2001:db8::20"]}
            receiver: {addresses: ["2001:db8::20"], policy: {checks: ["dnsbl:bl.test"]}}
            """
        ),
        (
            "implicit-mx",
            """
            dns: {records: ["example.test. AAAA 2001:db8::10"]}
            receiver: {addresses: ["2001:db8::10"]}
            """
        ),
        // Signed worlds, loaded with a reload: a key, a bad DS or a bogus answer one case's
        // validator saw must not reach the next.
        (
            "signed-confirmed",
            """
            dns:
              dnssec: signed
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict, resolver: validating}
            """
        ),
        (
            "signed-ptr-wrong-ds",
            """
            dns:
              dnssec: signed
              zones: [{zone: 5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa, state: wrong-ds}]
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict, resolver: validating}
            """
        ),
        (
            "signed-ptr-wrong-ds-not-validated",
            """
            dns:
              dnssec: signed
              zones: [{zone: 5.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa, state: wrong-ds}]
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict}
            """
        ),
        (
            "signed-forward-expired",
            """
            dns:
              dnssec: signed
              zones: [{zone: sender.test, state: expired}]
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                        "2001:db8:5::25 PTR mail.sender.test.", "mail.sender.test. AAAA 2001:db8:5::25"]
            receiver: {addresses: ["2001:db8::10"], policy: fcrdns-strict, resolver: validating}
            """
        ),
        (
            "signed-mx-bogus-at-sender",
            """
            dns:
              dnssec: signed
              zones: [{zone: example.test, state: bogus-signature}]
              records: ["example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10"]
            receiver: {addresses: ["2001:db8::10"]}
            """
        ),
    ]

    static func scenario(_ world: (name: String, yaml: String)) throws -> ScenarioCase {
        let yaml =
            "name: \(world.name)\n" + world.yaml + """

                sender: {addresses: {ipv6: "2001:db8:5::25"}, helo: mail.sender.test, mail_from: a@sender.test, rcpt_to: [b@example.test]\(world.name.hasSuffix("-at-sender") ? ", resolver: validating" : "")}
                expect: {}
                """
        return try #require(try ScenarioLoader(kinds: builtinKinds).load(yaml: yaml, file: "\(world.name).yaml").first)
    }

    /// Everything a leak could change: the outcome, where and with what reply each attempt ended,
    /// and why a connection could not be made.
    static func fingerprint(_ result: CaseResult) -> String {
        var parts = RunnerTestKit.attemptsFingerprint(result)
        parts.append(result.mxSessions.map { $0.summary.contains("listed") ? "listed" : "" }.joined())
        return parts.joined(separator: " | ")
    }

    /// Runs a seeded random sequence through one warm slot; returns the cases whose fingerprint
    /// differs from the fresh world's.
    static func divergences(plantedLeak: WarmWorlds.PlantedLeak?, seed: UInt64, length: Int) async throws -> (
        differing: [String], slots: Int
    ) {
        let scenarios = try worlds.map(scenario)
        let settings = RunConfiguration(resolverTimeout: .milliseconds(400))
        let fresh = CaseRunner(configuration: settings, parts: builtinParts)
        var expected: [String: String] = [:]
        for scenario in scenarios { expected[scenario.name] = fingerprint(await fresh.run(scenario)) }

        let warm = WarmWorlds(plantedLeak: plantedLeak)
        let runner = CaseRunner(configuration: settings, parts: builtinParts, warmWorlds: warm)
        var generator = SeededGenerator(seed: seed)
        var differing: [String] = []
        for _ in 0..<length {
            let scenario = scenarios.randomElement(using: &generator)!
            let got = fingerprint(await runner.run(scenario))
            if got != expected[scenario.name] {
                differing.append("\(scenario.name): fresh \(expected[scenario.name] ?? "?") / warm \(got)")
            }
        }
        let slots = await warm.started
        await warm.close()
        return (differing, slots)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomSequencesThroughOneSlotEndAsInFreshWorlds(seed: UInt64) async throws {
        let (differing, slots) = try await Self.divergences(plantedLeak: nil, seed: seed, length: 24)
        #expect(differing.isEmpty, "\(differing.joined(separator: "\n"))")
        #expect(slots == 1, "one slot served the whole sequence")
    }

    /// Leaving the previous world in unbound, or giving a case the resolver (and so the cached
    /// answers) of the cases before it, must change some case's ending.
    @Test(arguments: [WarmWorlds.PlantedLeak.previousWorld, .resolverKept])
    func aPlantedLeakIsCaught(_ leak: WarmWorlds.PlantedLeak) async throws {
        let (differing, _) = try await Self.divergences(plantedLeak: leak, seed: 1, length: 24)
        #expect(!differing.isEmpty, "the planted \(leak) changed no case's ending")
    }

    @Test func theQueryLogOfACaseHoldsOnlyItsOwnQueries() async throws {
        let warm = WarmWorlds(plantedLeak: nil)
        let runner = CaseRunner(configuration: RunConfiguration(), parts: builtinParts, warmWorlds: warm)
        let first = await runner.run(try Self.scenario(Self.worlds[0]))
        let second = await runner.run(try Self.scenario(Self.worlds[6]))
        await warm.close()
        // The first world's PTR leads the MX to mail.sender.test; the second has no PTR at all.
        #expect(
            first.queryLog.contains("mail.sender.test. AAAA IN"), "the MX's forward confirmation:\n\(first.queryLog)")
        #expect(second.status == .passed && second.queryLog.contains("ip6.arpa. PTR IN"))
        #expect(
            !second.queryLog.contains("mail.sender.test."),
            "nothing of the first case in the second's log:\n\(second.queryLog)")
        #expect(first.namespaceName == second.namespaceName, "both ran in the one slot")
    }
}
