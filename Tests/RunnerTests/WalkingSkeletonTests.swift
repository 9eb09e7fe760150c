import DNSCore
import Foundation
import MXHarnessTestKit
import ReferenceMX
import Runner
import RunnerTestKit
import Sandbox
import Scenario
import Testing

/// The two bundled reverse-DNS scenarios through every real part: namespace, unbound, libunbound,
/// the built-in MX and the sender, via the library (no shelling out).
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct WalkingSkeletonTests {
    static let scenarios = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scenarios/reverse-dns").path

    static func load(_ file: String) throws -> ScenarioCase {
        let cases = try ScenarioLoader(kinds: builtinKinds).load(paths: [scenarios + "/" + file])
        return try #require(cases.first)
    }

    @Test func ipv6SenderWithoutPTRBouncesAtRCPT() async throws {
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(
            try Self.load("ipv6-sender-without-ptr.yaml"))
        #expect(result.status == .passed, "\(result.mismatches) \(result.status)")
        #expect(result.observed?.outcome == .bounced)
        #expect(result.observed?.reply?.code == 550)
        #expect(
            result.delivery?.attempts.first?.localAddress == IPAddress("2001:db8:5::25"), "the real IPv6 source address"
        )
        #expect(result.mxSessions.first?.summary.contains("NXDOMAIN") == true, "the MX records why it decided")
        #expect(result.queryLog.contains("ip6.arpa. PTR IN"), "unbound saw the MX's PTR query")
    }

    @Test func ipv6SenderWithForwardConfirmedPTRIsDelivered() async throws {
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(
            try Self.load("ipv6-sender-with-fcrdns.yaml"))
        #expect(result.status == .passed, "\(result.mismatches) \(result.status)")
        #expect(result.observed?.outcome == .delivered)
        #expect(result.observed?.family == .ipv6)
    }

    @Test func aWrongExpectationFailsWithExpectedAndGot() async throws {
        var scenario = try Self.load("ipv6-sender-without-ptr.yaml")
        scenario.expect = Expectation(outcome: .delivered, family: .ipv4)
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(scenario)
        #expect(result.status == .failed)
        #expect(result.mismatches.map(\.description).contains("outcome: expected delivered, got bounced"))
        #expect(result.mismatches.map(\.description).contains("family: expected ipv4, got ipv6"))
    }

    @Test func everythingIsTakenDownAfterEachCase() async throws {
        let scenario = try Self.load("ipv6-sender-without-ptr.yaml")
        let results = await ScenarioRun(
            runner: CaseRunner(configuration: RunConfiguration(), parts: builtinParts), jobs: 2
        ).run([scenario, scenario, scenario])
        for result in results { Self.expectGone(result) }
    }

    @Test func aCaseThatCannotStartIsAnErrorAndLeavesNothing() async throws {
        var scenario = try Self.load("ipv6-sender-without-ptr.yaml")
        // Two receivers on one address and port: the second bind fails.
        scenario.receiver.addresses = [IPAddress("2001:db8::10")!, IPAddress("2001:db8::10")!]
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(scenario)
        guard case .error(let message) = result.status else {
            Issue.record("expected an error, got \(result.status)")
            return
        }
        #expect(message.contains("2001:db8::10"), "\(message)")
        Self.expectGone(result)
    }

    /// The case's namespace, folder and unbound are gone.
    static func expectGone(_ result: CaseResult, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let fm = FileManager.default
        guard let namespace = result.namespaceName, let directory = result.workDirectory else {
            Issue.record("the result does not name its namespace and folder", sourceLocation: sourceLocation)
            return
        }
        #expect(
            !fm.fileExists(atPath: "/run/netns/" + namespace), "namespace \(namespace) left",
            sourceLocation: sourceLocation)
        #expect(!fm.fileExists(atPath: directory), "folder \(directory) left", sourceLocation: sourceLocation)
        let unbounds = LiveProcess.mentioning(directory + "/")
        #expect(unbounds.isEmpty, "processes of the case left: \(unbounds)", sourceLocation: sourceLocation)
    }
}
