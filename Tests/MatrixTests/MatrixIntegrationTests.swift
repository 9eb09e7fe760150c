import Foundation
import Harness
import Logging
import MXHarnessTestKit
import Matrix
import Policy
import Postfix
import Runner
import RunnerTestKit
import Scenario
import Testing

/// The matrix through real worlds: namespaces, unbound, the built-in MX (or Postfix) and the sender.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct MatrixIntegrationTests {
    static func fixtureCases() throws -> (cases: [ScenarioCase], directory: String) {
        let directory = try Fixtures.temporaryDirectory()
        try Fixtures.writeFixtureScenarios(into: directory)
        return (try ScenarioLoader(kinds: builtinKinds).load(paths: [directory]), directory)
    }

    /// A dual-stack sender without an IPv6 PTR: delivered over IPv4 after a 450 where the check
    /// defers, bounced over IPv6 where it rejects. The good and the IPv4-only sender are delivered
    /// under both.
    @Test func tighteningFCrDNSTurnsTheIPv4FallbackIntoABounce() async throws {
        let (cases, directory) = try Self.fixtureCases()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = MatrixRunner(runner: CaseRunner(configuration: RunConfiguration(), parts: builtinParts), jobs: 2)
        let matrix = await runner.run(cases, columns: [.preset(.fcrdns), .preset(.fcrdnsStrict)])
        let byName = Dictionary(uniqueKeysWithValues: matrix.rows.map { ($0.name, $0) })
        let dual = try #require(byName["dual-stack-no-ipv6-ptr"])
        #expect(dual.cells.map(\.outcome.label) == ["delivered/v4 after 450", "bounced/v6 550 5.7.25 at RCPT"])
        #expect(
            dual.cells[1].outcome.replyLine
                == "550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]")
        #expect(dual.differs)
        // Its expect (delivered over IPv4) holds under its own fcrdns, and is not held against fcrdns-strict.
        #expect(dual.cells.map(\.verdict) == [.holds, .notJudged])
        #expect(byName["good-sender"]?.cells.map(\.outcome.label) == ["delivered/v6", "delivered/v6"])
        #expect(byName["ipv4-only-sender"]?.cells.map(\.outcome.label) == ["delivered/v4", "delivered/v4"])
        #expect(matrix.summary.differingRows == 1)
        #expect(matrix.summary.fails == 0 && matrix.summary.errors == 0)
        // Every cell kept its evidence for the HTML page.
        let strict = try #require(dual.cells[1].result)
        #expect(strict.delivery?.renderTranscript().contains("550 5.7.25") == true)
        #expect(strict.evidence?.decisions.first?.contains("2001:db8:5::25") == true)
    }

    /// The CI workflow: save a baseline of our policy file, run again (nothing changed, exit 0,
    /// though queue ids differ), tighten the policy, run again (exit 1, the change printed).
    @Test func aBaselineCatchesAnUnreviewedPolicyEffect() async throws {
        let (_, directory) = try Self.fixtureCases()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let policies = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: policies) }
        let ours = policies + "/ours.yaml"
        let baseline = policies + "/baseline.json"
        let html = policies + "/matrix.html"
        try "policy: fcrdns\n".write(toFile: ours, atomically: true, encoding: .utf8)
        func options(save: Bool = false, compare: Bool = false) -> MatrixOptions {
            MatrixOptions(
                paths: [directory], policies: [ours], jobs: 2, configuration: RunConfiguration(),
                saveBaselinePath: save ? baseline : nil, baselinePath: compare ? baseline : nil, htmlPath: html,
                parts: builtinParts)
        }
        let logger = Logger(label: "matrix-test")
        #expect(try await Harness.matrix(options(save: true), logger: logger) == .passed)
        let first = try Data(contentsOf: URL(fileURLWithPath: baseline))
        #expect(
            try await Harness.matrix(options(save: true, compare: true), logger: logger) == .passed,
            "the same worlds, the same results")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: baseline)) == first, "the baseline file is stable across runs")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.components(separatedBy: "<td class=\"cell ").count - 1 == 3)
        if Chromium.path != nil {
            // The page of a real run, with real transcripts and decision records, in the browser.
            let run = try Chromium.run(html, ["--dump-dom"])
            #expect(run.consoleErrors.isEmpty, "\(run.consoleErrors)")
            #expect(run.stdout.components(separatedBy: "<td class=\"cell ").count - 1 == 3)
            #expect(run.stdout.contains("Why the MX decided"))
        }

        try "policy: fcrdns-strict\n".write(toFile: ours, atomically: true, encoding: .utf8)
        #expect(
            try await Harness.matrix(options(compare: true), logger: logger) == .failed,
            "the stricter policy bounces the dual-stack sender")
        // What it printed, through the same model.
        let cases = try ScenarioLoader(kinds: builtinKinds).load(paths: [directory])
        let columns = try PolicyColumn.columns(policies: [ours], target: .builtin)
        let matrix = await MatrixRunner(
            runner: CaseRunner(configuration: RunConfiguration(), parts: builtinParts), jobs: 2
        ).run(cases, columns: columns)
        let comparison = BaselineComparison.compare(try Baseline.read(from: baseline), with: matrix)
        #expect(
            comparison.changes.map {
                "\($0.caseName) [\($0.column)]: \($0.before?.label ?? "-") -> \($0.after?.label ?? "-")"
            }
                == ["dual-stack-no-ipv6-ptr [ours]: delivered/v4 after 450 -> bounced/v6 550 5.7.25 at RCPT"],
            "why: \(comparison.changes.compactMap { $0.after.flatMap { $0.reason ?? $0.diagnostic } })")
        #expect(
            comparison.notes.contains {
                $0.contains("failures deferred (4xx)") && $0.contains("failures rejected (5xx)")
            })
    }

    @Test func anExpectationThatFailsInItsOwnColumnFailsTheRun() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wrong = try #require(Fixtures.fixtureScenarios["good-sender.yaml"]).replacingOccurrences(
            of: "family: ipv6}", with: "family: ipv4}")
        try wrong.write(toFile: directory + "/good-sender.yaml", atomically: true, encoding: .utf8)
        let logger = Logger(label: "matrix-test")
        let own = MatrixOptions(
            paths: [directory], policies: ["fcrdns"], jobs: 1, configuration: RunConfiguration(), parts: builtinParts)
        #expect(try await Harness.matrix(own, logger: logger) == .failed)
        let other = MatrixOptions(
            paths: [directory], policies: ["open"], jobs: 1, configuration: RunConfiguration(), parts: builtinParts)
        #expect(
            try await Harness.matrix(other, logger: logger) == .passed,
            "expect is not judged under a policy that is not the case's own")
    }

    @Test(.enabled(if: IntegrationEnvironment.hasPostfix, "needs postfix (apt-get install postfix)"))
    func postfixConfigurationsAreColumnsOnPostfix() async throws {
        let (cases, directory) = try Self.fixtureCases()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let defer450 = directory + "/defer.cf", strict = directory + "/strict.cf"
        try "smtpd_client_restrictions = reject_unknown_client_hostname\n".write(
            toFile: defer450, atomically: true, encoding: .utf8)
        try "smtpd_client_restrictions = reject_unknown_client_hostname\nunknown_client_reject_code = 550\n".write(
            toFile: strict, atomically: true, encoding: .utf8)
        let columns = try PolicyColumn.columns(
            policies: ["microsoft-like"], configurations: [defer450, strict], target: .postfix,
            parts: PartCatalog(receivers: [PostfixReceivers()]))
        let runner = MatrixRunner(
            runner: CaseRunner(
                configuration: RunConfiguration(target: .postfix), parts: builtinParts.adding(PostfixReceivers())),
            jobs: 2)
        let matrix = await runner.run(cases.filter { $0.name == "dual-stack-no-ipv6-ptr" }, columns: columns)
        let row = try #require(matrix.rows.first)
        #expect(
            row.cells.map(\.outcome.label) == ["skipped", "delivered/v4 after 450", "bounced/v6 550 5.7.25 at RCPT"],
            "\(row.cells.map(\.outcome))")
        #expect(row.cells[0].outcome.reason?.contains("microsoft-like") == true)
        #expect(matrix.target == .postfix)
        #expect(matrix.receiverName == "Postfix", "headings name the receiver as its kind does")
    }
}
