import MXHarnessTestKit
@testable import Postfix
import Runner
import Scenario
import Testing

/// Identity-path cases on the Postfix target through the runner with shared instances: the
/// model sender's PROXY header and XCLIENT reach a Postfix set up from the case's keys, the case's
/// receiver log is its own session whichever address the connect line names, and cases whose
/// identity keys differ are not served by one configuration.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationEnvironment.canRunWorlds && IntegrationEnvironment.hasPostfix,
        "needs root (network namespaces), unbound and postfix (apt-get install unbound postfix); run as root"))
struct PostfixIdentityRunTests {
    /// A sender on 203.0.113.25 without PTR, a proxy lb.example.test (198.51.100.5,
    /// forward-confirmed), fcrdns-strict on mx.example.test; RECEIVER and SENDER add the keys.
    static func scenario(_ name: String, receiver: String, sender: String) throws -> ScenarioCase {
        let yaml = """
            name: \(name)
            dns:
              records:
                - example.test. MX 10 mx.example.test.
                - mx.example.test. A 192.0.2.10
                - lb.example.test. A 198.51.100.5
                - 198.51.100.5 PTR lb.example.test.
            receiver:
              hostname: mx.example.test
              addresses: [192.0.2.10]
              target: postfix
              policy: fcrdns-strict
            \(receiver)
            sender:
              addresses: {ipv4: 203.0.113.25}
              helo: mail.sender.test
              mail_from: a@sender.test
              rcpt_to: [b@example.test]
            \(sender)
            expect: {outcome: bounced, stage: rcpt, code: 550}
            """
        return try #require(try ScenarioLoader().load(yaml: yaml, file: "\(name).yaml").first)
    }

    @Test func xclientProxyAndSocketCasesEachGetTheirOwnInstanceAndTheirOwnSession() async throws {
        let cases = [
            try Self.scenario(
                "xclient-unavailable", receiver: "  xclient_hosts: [198.51.100.5]",
                sender: "  identity: xclient\n  proxy_address: 198.51.100.5\n  xclient_name: \"[UNAVAILABLE]\""),
            try Self.scenario(
                "proxy-v2", receiver: "  proxy_protocol: haproxy",
                sender: "  identity: proxy-v2\n  proxy_address: 198.51.100.5"),
            try Self.scenario("socket", receiver: "", sender: ""),
        ]
        let (results, statistics) = await PostfixPoolTests.runShared(cases)
        #expect(
            results.allSatisfy { $0.status == .passed },
            "\(results.map { "\($0.name): \($0.status) \($0.mismatches)" })")
        // No instance serves two identity settings as it stands: xclient_hosts lives in main.cf, so an
        // idle host may be reloaded between the XCLIENT and the socket case; PROXY is a master.cf
        // option, which a reload does not change, so that case has an instance of its own.
        #expect(statistics.instancesStarted >= 2, "PROXY needs its own instance: \(statistics)")
        #expect(
            statistics.instancesStarted + statistics.reloads == 3,
            "a new or reloaded configuration per identity setting: \(statistics)")
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.receiverLog) })
        let xclient = try #require(byName["xclient-unavailable"])
        #expect(xclient.contains("connect from lb.example.test[198.51.100.5]"), "\(xclient)")
        #expect(xclient.contains("NOQUEUE: reject: RCPT from unknown[203.0.113.25]: 550 5.7.25 "), "\(xclient)")
        #expect(xclient.contains("disconnect from unknown[203.0.113.25]"), "\(xclient)")
        let proxied = try #require(byName["proxy-v2"])
        #expect(proxied.contains("connect from unknown[203.0.113.25]"), "\(proxied)")
        #expect(proxied.contains("NOQUEUE: reject: RCPT from unknown[203.0.113.25]: 550 5.7.25 "), "\(proxied)")
        #expect(
            !proxied.contains("198.51.100.5"), "the proxy's address appears nowhere after a PROXY header: \(proxied)")
    }
}
