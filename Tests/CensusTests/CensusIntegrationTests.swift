import Census
import DNSCore
import Foundation
import Logging
import MXHarnessTestKit
import Matrix
import Runner
import RunnerTestKit
import Testing

/// The census run for real: every world in a namespace with unbound and the built-in MX.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct CensusIntegrationTests {
    static let policies = ["open", "fcrdns", "fcrdns-strict", "helo-strict"]

    static func census(_ path: String, everyClient: Bool = false, jobs: Int = 2) async throws -> CensusReport {
        let log = try SessionLog.read([path])
        let clients = try await CensusRun.clients(log, resolver: nil, logger: Logger(label: "test"))
        let plan = CensusPlan.make(clients, everyClient: everyClient)
        let columns = try PolicyColumn.columns(policies: policies, target: .builtin)
        let request = CensusRequest(logs: [path], columns: columns, everyClient: everyClient, jobs: jobs)
        let runner = CaseRunner(
            configuration: RunConfiguration(target: .builtin), parts: builtinParts, logger: Logger(label: "test"))
        return await CensusRun(runner: runner, logger: Logger(label: "test")).run(
            plan, request: request, reading: log.summary)
    }

    /// A week of a dual-stack MX's log: every policy's clients, sessions and messages per fate are
    /// those the generator's kinds call for.
    @Test func aSyntheticWeekGivesTheRightCountsPerPolicy() async throws {
        let week = SyntheticWeek(perKind: 12)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try week.write(to: directory + "/mail.log")
        let report = try await Self.census(directory + "/mail.log")

        #expect(report.clients == week.clients.count)
        #expect(report.sessions == week.clients.reduce(0) { $0 + $1.sessionCount })
        #expect(report.messages == week.clients.reduce(0) { $0 + $1.messageCount })
        #expect(report.dualStack == week.clients.filter { $0.kind.families.count == 2 }.count)
        // Clients of a kind share a world: far fewer runs than clients.
        #expect(report.runs <= SyntheticWeek.Kind.allCases.count + 2, "\(report.groups.map(\.description))")
        for policy in report.policies {
            let expected = week.expected(policy.name)
            for fate in Fate.allCases {
                let want = expected[fate] ?? Weight()
                #expect(policy.clients(fate) == want.clients, "\(policy.name) \(fate) clients")
                #expect(policy.sessions[fate.rawValue] == want.sessions, "\(policy.name) \(fate) sessions")
                #expect(policy.messages[fate.rawValue] == want.messages, "\(policy.name) \(fate) messages")
            }
        }
        // The reasons: IPv6 without PTR sends the dual-stack clients to IPv4 under fcrdns.
        let fcrdns = try #require(report.policies.first { $0.name == "fcrdns" })
        let reasons = Dictionary((fcrdns.byReason ?? []).map { ($0.name, $0.clients) }, uniquingKeysWith: +)
        #expect(reasons["PTR not confirmed over IPv6"] == 12)
        #expect(reasons["PTR missing or not confirmed over IPv6 (the log says unknown)"] == 24)
        #expect(reasons["PTR missing or not confirmed over IPv4 (the log says unknown)"] == 12)
        let helo = try #require(report.policies.first { $0.name == "helo-strict" })
        #expect(helo.byReason?.first?.name == "HELO not resolving")
        #expect(helo.byDomain?.count == 10, "top 10 of 12 domains")
    }

    /// Sharing a run between clients of the same world changes nothing: every client in its own
    /// world (own addresses and names) gives the same counts.
    @Test func everyClientInItsOwnWorldGivesTheSameCounts() async throws {
        let week = SyntheticWeek(perKind: 2, maxSessions: 3, seed: 7)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try week.write(to: directory + "/mail.log")
        let shared = try await Self.census(directory + "/mail.log")
        let separate = try await Self.census(directory + "/mail.log", everyClient: true)
        #expect(separate.runs == week.clients.count)
        #expect(shared.runs < separate.runs)
        for (a, b) in zip(shared.policies, separate.policies) {
            #expect(a == b)
        }
    }
}

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "census-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
