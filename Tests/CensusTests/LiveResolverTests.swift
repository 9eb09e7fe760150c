import Census
import DNSCore
import Foundation
import Logging
import MXHarnessTestKit
import Matrix
import Runner
import RunnerTestKit
import Testing

/// `--resolver`: each client's DNS recorded from a real unbound serving a world, then run.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct LiveResolverTests {
    /// Two IPv4 senders whose names also have IPv6 addresses: the first's IPv6 address has no PTR,
    /// the second's SPF record has no ip6. The log shows only their IPv4 sessions.
    static let records = [
        "5.2.0.192.in-addr.arpa. PTR mail.a.test.",
        "mail.a.test. A 192.0.2.5",
        "mail.a.test. AAAA 2001:db8:5::25",
        "a.test. TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
        "7.100.51.198.in-addr.arpa. PTR mx.b.test.",
        "mx.b.test. A 198.51.100.7",
        "mx.b.test. AAAA 2001:db8:7::7",
        "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR mx.b.test.",
        "b.test. TXT \"v=spf1 ip4:198.51.100.7 -all\"",
    ]

    static let log = """
        Mar  4 10:00:00 mx postfix/smtpd[100]: connect from mail.a.test[192.0.2.5]
        Mar  4 10:00:01 mx postfix/smtpd[100]: 1A2B3C: client=mail.a.test[192.0.2.5]
        Mar  4 10:00:01 mx postfix/qmgr[9]: 1A2B3C: from=<x@a.test>, size=900, nrcpt=1 (queue active)
        Mar  4 10:00:02 mx postfix/smtpd[100]: disconnect from mail.a.test[192.0.2.5] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Mar  4 10:00:03 mx postfix/smtpd[101]: connect from mx.b.test[198.51.100.7]
        Mar  4 10:00:04 mx postfix/smtpd[101]: 1A2B3D: client=mx.b.test[198.51.100.7]
        Mar  4 10:00:04 mx postfix/qmgr[9]: 1A2B3D: from=<y@b.test>, size=900, nrcpt=1 (queue active)
        Mar  4 10:00:05 mx postfix/smtpd[101]: disconnect from mx.b.test[198.51.100.7] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5

        """

    @Test func recordedWorldsMakeDualStackSendersAndTheirReasons() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.log.write(toFile: directory + "/mail.log", atomically: true, encoding: .utf8)
        let logger = Logger(label: "test")
        let spec = WorldSpec(records: try WorldFixture.records(Self.records))
        let report = try await WorldFixture.withWorld(spec) { fixture in
            let resolver = LiveResolver(server: fixture.world.resolverAddress, namespace: fixture.namespace)
            let log = try SessionLog.read([directory + "/mail.log"])
            let clients = try await CensusRun.clients(log, resolver: resolver, logger: logger)
            #expect(clients.count == 2)
            for (client, facts, _) in clients {
                #expect(client.isDualStack, "its name has an AAAA record")
                #expect(facts.side(.ipv4)?.spf == .pass)
                #expect(facts.side(.ipv6)?.spf == .fail, "neither record has ip6")
            }
            let a = try #require(clients.first { $0.0.key == "192.0.2.5" })
            #expect(a.1.side(.ipv6)?.reverse == .missing)
            let b = try #require(clients.first { $0.0.key == "198.51.100.7" })
            #expect(b.1.side(.ipv6)?.reverse == .confirmed("mx.b.test"))
            let columns = try PolicyColumn.columns(
                policies: ["open", "fcrdns", "ipv6-strict", "microsoft-like"], target: .builtin)
            let plan = CensusPlan.make(clients, everyClient: false)
            let request = CensusRequest(logs: [directory + "/mail.log"], columns: columns, resolver: resolver, jobs: 2)
            let runner = CaseRunner(
                configuration: RunConfiguration(target: .builtin), parts: builtinParts, logger: logger)
            return await CensusRun(runner: runner, logger: logger).run(plan, request: request, reading: log.summary)
        }
        let byName = Dictionary(uniqueKeysWithValues: report.policies.map { ($0.name, $0) })
        #expect(byName["open"]?.delivered == 2)
        #expect(byName["fcrdns"]?.fellBack == 1 && byName["fcrdns"]?.delivered == 1)
        #expect(byName["ipv6-strict"]?.bounced == 2)
        #expect(Set(byName["ipv6-strict"]?.byReason?.map(\.name) ?? []) == ["no PTR over IPv6", "SPF without ip6"])
        #expect(byName["microsoft-like"]?.fellBack == 2)
        #expect(report.worlds.hasPrefix("resolver "))
    }
}
