import CertificateAuthority
import DNSCore
import Foundation
import Policy
import Matrix
import MXHarnessTestKit
import Runner
import RunnerTestKit
import Scenario
import SMTPProtocol
import Testing

/// `matrix --tls`: the columns, the case as each level runs it, and (with real worlds, the
/// built-in MX offering STARTTLS with an expired certificate) the levels side by side.
@Suite struct TLSAxisTests {
    @Test func columnsAreTheLevelsGivenEachOnce() throws {
        #expect(try TLSAxis.columns(["may", "verify", "may", " secure"]).map(\.name) == ["may", "verify", "secure"])
        do {
            _ = try TLSAxis.columns(["verfy"])
            Issue.record("an unknown level was taken")
        } catch {
            #expect(
                error.description
                    == "--tls: \"verfy\" is not a TLS security level (none, may, encrypt, dane, verify, secure); did you mean verify?"
            )
        }
    }

    @Test func aLevelChangesTheSenderOnlyAndTheOwnLevelJudgesExpect() throws {
        var scenario = Fixtures.scenario("tls")
        scenario.receiver.tls = ReceiverTLSSpec(starttls: true, certificate: .expired)
        scenario.sender.tls = .verify
        let columns = try TLSAxis.columns(["may", "verify"])
        let may = columns[0].applied(to: scenario)
        #expect(may.sender.tls == .may)
        #expect(may.receiver.tls == scenario.receiver.tls)
        #expect(may.receiver.policy == scenario.receiver.policy)
        #expect(columns.map { $0.isOwnPolicy(of: scenario) } == [false, true])
    }

    @Test(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
    func anExpiredCertificateDefersOnlyWhereTheLevelChecksIt() async throws {
        var scenario = Fixtures.scenario(
            "expired-certificate", policy: Preset.open.policy, expect: Expectation(outcome: .deferred))
        scenario.dns.records = try ["example.test. MX 10 mx.example.test.", "mx.example.test. A 192.0.2.10"].map {
            try ZoneLine.parse($0)
        }
        scenario.sender.addresses = [.ipv4: Fixtures.sender4]
        scenario.receiver.tls = ReceiverTLSSpec(starttls: true, certificate: .expired)
        scenario.sender.tls = .verify
        let runner = MatrixRunner(runner: CaseRunner(configuration: RunConfiguration(), parts: builtinParts), jobs: 2)
        let matrix = await runner.run([scenario], columns: try TLSAxis.columns(["none", "may", "verify"]))
        let row = try #require(matrix.rows.first)
        #expect(row.cells.map(\.outcome.outcome) == [.delivered, .delivered, .deferred])
        #expect(row.cells[2].outcome.replyLine == "451 4.7.5 Server certificate not verified")
        #expect(row.cells.map(\.verdict) == [.notJudged, .notJudged, .holds])
        #expect(
            row.cells[1].note?.hasSuffix(
                "where at verify deferred/v4 451 4.7.5 at HELO (Server certificate not verified)") == true)
        #expect(row.cells[2].note == nil)
        // The TLS the cells ran with: none in plaintext, may and verify over TLS.
        #expect(row.cells.map { $0.result?.decidingAttempt?.tls != nil } == [false, true, true])
    }
}
