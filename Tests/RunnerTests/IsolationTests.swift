import Foundation
import MXHarnessTestKit
import Runner
import Scenario
import Testing

/// Each case has its own namespace, world and MX: results must not depend on order or parallelism,
/// even for cases that give the same names and addresses different records.
@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct IsolationTests {
    static let library = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scenarios").path

    static func fingerprint(_ result: CaseResult) -> String {
        let observed = result.observed
        return [result.name, result.status.label, observed?.outcome.rawValue ?? "-", observed?.family?.rawValue ?? "-",
                observed?.stage?.rawValue ?? "-", observed?.reply.map { "\($0.code) \($0.enhanced ?? "")" } ?? "-",
                "\(observed?.attempts.count ?? 0)"].joined(separator: " ")
    }

    @Test func orderAndParallelismDoNotChangeResults() async throws {
        // The reverse-DNS and fallback themes reuse the same sender and receiver names and addresses
        // with different records from case to case.
        let cases = try ScenarioLoader().load(paths: [Self.library + "/reverse-dns", Self.library + "/family-fallback"])
        try #require(cases.count >= 20)
        let runner = CaseRunner(configuration: RunConfiguration(target: .builtin))
        let serial = await ScenarioRun(runner: runner, jobs: 1).run(cases).map(Self.fingerprint)
        let parallelReversed = await ScenarioRun(runner: runner, jobs: 4).run(cases.reversed()).map(Self.fingerprint)
        #expect(serial == Array(parallelReversed.reversed()))
        #expect(serial.allSatisfy { $0.contains(" passed ") }, "\(serial.filter { !$0.contains(" passed ") })")
    }
}
