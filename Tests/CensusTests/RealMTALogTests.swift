@testable import Census
import DNSCore
import Exim
import Foundation
import Logging
import MXHarnessTestKit
import Postfix
import Runner
import RunnerTestKit
import Scenario
import Testing

/// census reads what the real MTAs write: a census world delivered to a real Postfix (warn_if_reject
/// reject_unknown_client_hostname) and to a real Exim (host_lookup = *), their logs read back.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct RealMTALogTests {
    /// A client whose IPv4 address has a confirmed name and whose IPv6 address has no PTR, once
    /// from each address.
    static func cases(target: ReceiverTarget, configure: (inout ScenarioCase) -> Void) -> [ScenarioCase] {
        let v4 = ClientFacts.Side(
            address: IPAddress("192.0.2.5")!, reverse: .confirmed("mail.r.test"), heloAddress: .matches, spf: .pass)
        let v6 = ClientFacts.Side(
            address: IPAddress("2001:db8:5::25")!, reverse: .missing, heloAddress: .matches, spf: .pass)
        return [v4, v6].map { side in
            let facts = ClientFacts(sides: [side], helo: "mail.r.test", heloFound: .found, mailFrom: "x@r.test")
            var scenario = CensusWorld.scenario(facts, name: "real/\(side.address.family)")
            // The other family's records stay: the name resolves in both.
            scenario.dns.records +=
                CensusWorld.scenario(
                    ClientFacts(sides: [v4, v6], helo: "mail.r.test", heloFound: .found, mailFrom: "x@r.test"),
                    name: "x"
                ).dns.records
            scenario.receiver.target = target
            configure(&scenario)
            return scenario
        }
    }

    static func read(_ results: [CaseResult]) throws -> SessionLog {
        let path = try temporaryDirectory() + "/mail.log"
        try results.map(\.receiverLog).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return try SessionLog.read([path])
    }

    static func run(_ cases: [ScenarioCase], target: ReceiverTarget) async -> [CaseResult] {
        let runner = CaseRunner(
            configuration: RunConfiguration(target: target),
            parts: builtinParts.adding(PostfixReceivers()).adding(EximReceivers()), logger: Logger(label: "test"))
        return await ScenarioRun(runner: runner, jobs: 1).run(cases)
    }

    @Test(.enabled(if: IntegrationEnvironment.hasPostfix, "needs Postfix (apt-get install postfix)"))
    func postfixsOwnLog() async throws {
        let results = await Self.run(
            Self.cases(target: .postfix) { scenario in
                scenario.receiver.postfix = [
                    "smtpd_client_restrictions": "warn_if_reject reject_unknown_client_hostname"
                ]
            }, target: .postfix)
        for result in results { #expect(result.observed?.outcome == .delivered, "\(result.name): \(result.status)") }
        let log = try Self.read(results)
        let v6 = try #require(log.addresses.first { $0.address.family == .ipv6 }, "\(results.map(\.receiverLog))")
        #expect(v6.sessions == 1 && v6.messages == 1)
        #expect(v6.unknownSessions == 1 && v6.confirmedNames.isEmpty)
        #expect(v6.helos == ["mail.r.test": 1], "the reject_warning line names the HELO")
        #expect(v6.senders == ["x@r.test": 1])
        #expect(
            v6.rejections.keys.contains { $0.hasPrefix("450 4.7.25 Client host rejected: cannot find your hostname") })
        let v4 = try #require(log.addresses.first { $0.address.family == .ipv4 })
        #expect(v4.confirmedName == "mail.r.test" && v4.sessions == 1 && v4.messages == 1)
        let clients = ClientGrouping.group(log.addresses)
        #expect(clients.count == 1 && clients[0].isDualStack)
    }

    @Test func eximsOwnLog() async throws {
        let results = await Self.run(
            Self.cases(target: .exim) { scenario in
                scenario.receiver.exim.main["host_lookup"] = "*"
            }, target: .exim)
        if case .skipped(let reason) = results.first?.status {
            #expect(ProcessInfo.processInfo.environment["MXHARNESS_CI"] != "1", "CI has Exim: \(reason)")
            return
        }
        for result in results { #expect(result.observed?.outcome == .delivered, "\(result.name): \(result.status)") }
        let log = try Self.read(results)
        let v6 = try #require(log.addresses.first { $0.address.family == .ipv6 }, "\(results.map(\.receiverLog))")
        // Exim 4.96 names the client `H=(helo) [addr]` and logs nothing more about a missing PTR.
        #expect(v6.confirmedNames.isEmpty && v6.unknownSessions > 0, "\(results.map(\.receiverLog))")
        #expect(LogFacts.reverseFact(v6) == .unknown)
        #expect(v6.sessions == 1 && v6.messages == 1 && v6.helos["mail.r.test"] != nil)
        let v4 = try #require(log.addresses.first { $0.address.family == .ipv4 })
        #expect(v4.confirmedName == "mail.r.test" && v4.sessions == 1 && v4.messages == 1)
        #expect(ClientGrouping.group(log.addresses).count == 1)
    }
}
