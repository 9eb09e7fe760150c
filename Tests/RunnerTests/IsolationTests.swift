import Foundation
import MXHarnessTestKit
import Runner
import RunnerTestKit
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
        return [
            result.name, result.status.label, observed?.outcome.rawValue ?? "-", observed?.family?.rawValue ?? "-",
            observed?.stage?.rawValue ?? "-", observed?.reply.map { "\($0.code) \($0.enhanced ?? "")" } ?? "-",
            "\(observed?.attempts.count ?? 0)",
        ].joined(separator: " ")
    }

    @Test func orderAndParallelismDoNotChangeResults() async throws {
        // The reverse-DNS and fallback themes reuse the same sender and receiver names and addresses
        // with different records from case to case.
        let cases = try ScenarioLoader(kinds: builtinKinds).load(paths: [
            Self.library + "/reverse-dns", Self.library + "/family-fallback",
        ])
        try #require(cases.count >= 20)
        let runner = CaseRunner(configuration: RunConfiguration(target: .builtin), parts: builtinParts)
        let serialResults = await ScenarioRun(runner: runner, jobs: 1).run(cases)
        let parallelResults = await ScenarioRun(runner: runner, jobs: 4).run(cases.reversed())
        let serial = serialResults.map(Self.fingerprint)
        let parallelReversed = parallelResults.map(Self.fingerprint)
        // What went wrong in a case that did not pass, with each attempt's error.
        let trouble = (serialResults + parallelResults).filter { $0.status != .passed }.map { result in
            "\(Self.fingerprint(result)): \(result.status) \(result.delivery?.attempts.map { "\($0.remoteAddress) \($0.result) \($0.error ?? "")" } ?? [])"
        }
        #expect(serial == Array(parallelReversed.reversed()), "\(trouble)")
        #expect(serial.allSatisfy { $0.contains(" passed ") }, "\(trouble)")
    }
}
