import Foundation
import MXHarnessTestKit
import ModelProxy
import NIOCore
import Postfix
import Runner
import RunnerTestKit
import Scenario
import Testing

/// `sender.proxy: model` with a real Postfix sender: the harness's relay names the sender to the
/// receiver on every identity path (PROXY v1, v2, XCLIENT), so the identities theme gives the same
/// verdicts from the real sender as from the built-in one.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound, nft and postfix; run as root"))
struct PostfixSenderThroughRelayTests {
    @Test func theIdentitiesThemePassesWithTheRealSenderThroughTheRelay() async throws {
        let theme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/identities").path
        let cases = try ScenarioLoader(kinds: builtinKinds).load(paths: [theme]).filter {
            $0.sender.identity.usesProxy && $0.sender.proxy == .model
        }
        #expect(cases.count >= 3)
        let results = await ScenarioRun(
            runner: CaseRunner(
                configuration: RunConfiguration(sender: .postfix),
                parts: postfixParts(PostfixReceivers(sharing: false)).adding(ModelProxies())),
            jobs: 2
        ).run(cases)
        for result in results {
            #expect(result.status == .passed, "\(result.name): \(result.status) \(result.mismatches)")
            #expect(result.receiverLog.contains("model proxy: "), "\(result.name): \(result.receiverLog)")
        }
    }
}

/// The relay reads the sender's address from the accepted connection (it once read none and closed
/// every connection, which the sender saw as a lost greeting).
@Suite struct RelayEndpointTests {
    @Test(arguments: [("203.0.113.25", 40123), ("2001:db8:5::25", 25)])
    func theSendersAddressAndPortAreRead(address: String, port: Int) throws {
        let peer = try SocketAddress(ipAddress: address, port: port)
        let endpoint = try #require(ProxyRelay.endpoint(of: peer))
        #expect(endpoint.address.description == address)
        #expect(endpoint.port == port)
    }
}
