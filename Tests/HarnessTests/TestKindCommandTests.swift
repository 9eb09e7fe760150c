import ArgumentParser
import Foundation
import Harness
import Logging
import MXHarnessTestKit
import Runner
import RunnerTestKit
import Scenario
import Testing

/// A receiver kind defined only in the tests (`GreetingOnlyReceivers`: its name, its key
/// `receiver.greeting`, its option `--greeting`, its heading "Greeting-only MX") runs through the
/// commands' own pipeline, `run`, `parity` and `matrix`: loaded with the catalog's names and
/// keys, its option parsed, preflighted, run, reported.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct TestKindCommandTests {
    static let logger = Logger(label: "test")

    /// Two cases on the greeting-only receiver: one with its own `receiver.greeting`, one with
    /// the option's greeting.
    static let scenario = """
        name: greeted
        dns:
          records:
            - example.test. MX 10 mx.example.test.
            - mx.example.test. AAAA 2001:db8::10
        receiver:
          addresses: ["2001:db8::10"]
          target: greeting-only
          greeting: {text: "554 5.7.1 not from you"}
        sender:
          addresses: {ipv6: "2001:db8:5::25"}
          helo: mail.sender.test
          mail_from: alice@sender.test
          rcpt_to: bob@example.test
        expect: {outcome: deferred, stage: greeting, code: 554, enhanced: 5.7.1, text: not from you}
        variants:
          - name: the-options-greeting
            receiver: {greeting: ~}
            expect: {outcome: deferred, stage: greeting, code: 421, enhanced: 4.3.2, text: busy}
        """

    /// The folder holding the scenario, the kind as `--greeting "421 4.3.2 busy"` configures it,
    /// and the catalog with it beside the built-in parts.
    static func setUp() throws -> (folder: String, journal: GreetingOnlyReceivers.Journal, parts: PartCatalog) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("test-kind-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try scenario.write(toFile: folder + "/greeted.yaml", atomically: true, encoding: .utf8)
        let journal = GreetingOnlyReceivers.Journal()
        let options = try GreetingOptions.parse(["--greeting", "421 4.3.2 busy"])
        return (folder, journal, builtinParts.adding(options.receivers(journal: journal)))
    }

    @Test func runLoadsItsKeyAndRunsItWithItsOption() async throws {
        let (folder, journal, parts) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let json = folder + "/run.json"
        let options = RunOptions(
            paths: [folder], jobs: 2, selection: CaseSelection(), configuration: RunConfiguration(), jsonPath: json,
            parts: parts)
        #expect(try await Harness.run(options, logger: Self.logger) == .passed)
        let report = try String(contentsOfFile: json, encoding: .utf8)
        #expect(report.contains("\"greeting-only\""), "\(report)")
        #expect(journal.all.filter { $0 == "start" }.count == 2, "\(journal.all)")
    }

    @Test func parityHasAColumnForIt() async throws {
        let (folder, journal, parts) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The built-in MX delivers where the greeting-only receiver turns the sender away: both
        // cases differ, so both sides ran.
        let verdict = try await Harness.parity(
            paths: [folder], jobs: 2, configuration: RunConfiguration(),
            axis: .receivers([.builtin, GreetingOnlyReceivers.target]), parts: parts, logger: Self.logger)
        #expect(verdict == .failed)
        #expect(journal.all.filter { $0 == "start" }.count == 2, "\(journal.all)")
    }

    @Test func theMatrixIsHeadedWithItsDisplayName() async throws {
        let (folder, journal, parts) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let html = folder + "/matrix.html"
        let options = MatrixOptions(
            paths: [folder], policies: ["open"], jobs: 2,
            configuration: RunConfiguration(target: GreetingOnlyReceivers.target), htmlPath: html, parts: parts)
        #expect(try await Harness.matrix(options, logger: Self.logger) == .passed)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("2 cases × 1 policy on Greeting-only MX."), "\(page.prefix(2000))")
        #expect(journal.all.filter { $0 == "start" }.count == 2, "\(journal.all)")
    }

    /// Without the kind in the catalog the same file does not load: its name and key are the kind's.
    @Test func withoutTheKindTheFileIsALoadError() async throws {
        let (folder, _, _) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let options = RunOptions(
            paths: [folder], jobs: 1, selection: CaseSelection(), configuration: RunConfiguration(), parts: builtinParts
        )
        await #expect {
            try await Harness.run(options, logger: Self.logger)
        } throws: { error in
            let text = "\(error)"
            return text.contains("receiver.target: unknown receiver target \"greeting-only\"")
                && text.contains("receiver.greeting: unknown key \"greeting\"")
        }
    }
}
