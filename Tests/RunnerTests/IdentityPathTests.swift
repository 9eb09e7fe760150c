import DNSCore
import Foundation
import HAProxy
import MXHarnessTestKit
@testable import ReferenceMX
import Runner
import RunnerTestKit
import Scenario
import Testing

/// The identities theme end to end on the built-in MX (real namespaces, real unbound): the
/// proxy's address in the namespace, the header or XCLIENT on the wire, and the MX's verdict.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct IdentityPathTests {
    static let theme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scenarios/identities").path

    static func cases() throws -> [ScenarioCase] {
        try ScenarioLoader(kinds: builtinKinds).load(paths: [theme])
    }

    @Test func everyCaseOfTheThemePassesOnTheBuiltinMX() async throws {
        let cases = try Self.cases()
        #expect(cases.count >= 14)
        // identities/haproxy*: a real HAProxy in front (sender.proxy: haproxy).
        let runner = CaseRunner(configuration: RunConfiguration(), parts: builtinParts.adding(HAProxyProxies()))
        for scenario in cases {
            let result = await runner.run(scenario)
            #expect(result.status == .passed, "\(scenario.name): \(result.mismatches) \(result.status)")
        }
    }

    @Test func theMXRecordsTheProxyAndTheClientAndUnboundSawTheProxiedPTR() async throws {
        let scenario = try #require(try Self.cases().first { $0.name == "proxy-v1" })
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(scenario)
        #expect(result.status == .passed, "\(result.mismatches) \(result.status)")
        let session = try #require(result.mxSessions.first)
        #expect(session.client == IPAddress("203.0.113.25"))
        #expect(session.proxy == IPAddress("198.51.100.5"))
        #expect(session.summary.contains("via 198.51.100.5 (proxy-v1)"))
        #expect(
            result.queryLog.contains("25.113.0.203.in-addr.arpa. PTR IN"),
            "unbound saw the PTR query for the proxied address")
        #expect(
            result.delivery?.attempts.first?.transcript.contains {
                $0.text.hasPrefix("via proxy 198.51.100.5: PROXY TCP4 203.0.113.25 192.0.2.10 ")
            } == true)
    }

    @Test func afterXCLIENTNothingIsLookedUpForTheClient() async throws {
        let scenario = try #require(try Self.cases().first { $0.name == "xclient/without-name" })
        let result = await CaseRunner(configuration: RunConfiguration(), parts: builtinParts).run(scenario)
        #expect(result.status == .passed, "\(result.mismatches) \(result.status)")
        #expect(!result.queryLog.contains("25.113.0.203.in-addr.arpa."), "no PTR query for the XCLIENT address")
        #expect(result.queryLog.contains("5.100.51.198.in-addr.arpa. PTR IN"), "the proxy's own PTR at connect")
    }

    @Test func untranslatedReceiversSkipWithTheReason() async throws {
        // (A real sending MTA on an identity path now goes through the harness's relay, ModelProxy.)
        var scenario = try #require(try Self.cases().first { $0.name == "proxy-v1" })
        #expect(
            untranslatedIdentity(of: scenario, on: "Exim")
                == "receiver.proxy_protocol: haproxy is not set up for Exim (the built-in MX and Postfix take PROXY headers)"
        )
        scenario.receiver.proxyProtocol = nil
        #expect(
            untranslatedIdentity(of: scenario, on: "OpenSMTPD")
                == "sender.identity: proxy-v1 is answered as Postfix answers it; OpenSMTPD is not set up for it")
        scenario.sender.identity = .socket
        #expect(untranslatedIdentity(of: scenario, on: "OpenSMTPD") == nil)
    }
}
