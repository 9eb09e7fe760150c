import DNSCore
import Foundation
import Matrix
import MXHarnessTestKit
import Policy
import Reports
import Runner
import RunnerTestKit
import Scenario
import Testing

/// `matrix --identities`: the columns, the case as each path runs it, the one-line explanations,
/// and (with real worlds) the XCLIENT-without-NAME false accept.
@Suite struct IdentityAxisTests {
    @Test func columnsStartWithTheDirectConnection() throws {
        #expect(
            try IdentityAxis.columns(["proxy-v2", "xclient", "proxy-v2"]).map(\.name) == [
                "socket", "proxy-v2", "xclient",
            ])
        #expect(try IdentityAxis.columns(["socket", "proxy-v1"]).map(\.name) == ["socket", "proxy-v1"])
        #expect(throws: MatrixError.self) { try IdentityAxis.columns(["proxy-v3"]) }
        do {
            _ = try IdentityAxis.columns(["xclinet"])
        } catch {
            #expect(
                error.description
                    == "--identities: \"xclinet\" is not an identity path (socket, proxy-v1, proxy-v2, xclient); did you mean xclient?"
            )
        }
    }

    @Test func aPathSetsUpTheSenderTheReceiverAndTheProxysDNS() throws {
        let scenario = Fixtures.scenario("direct", policy: Preset.fcrdnsStrict.policy)
        let v2 = IdentityAxis.applied(.proxyV2, to: scenario)
        #expect(v2.sender.identity == .proxyV2)
        #expect(
            v2.sender.proxyAddresses == [.ipv4: IPAddress("198.51.100.254")!, .ipv6: IPAddress("2001:db8:ffff::fe")!])
        #expect(v2.receiver.proxyProtocol == .haproxy)
        #expect(v2.receiver.xclientHosts.isEmpty)
        #expect(v2.receiver.policy == scenario.receiver.policy)
        let records = v2.dns.records.map(\.description)
        #expect(records.contains { $0.contains("PTR lb.proxy.test.") })
        #expect(records.contains { $0.hasPrefix("lb.proxy.test.") && $0.contains("AAAA 2001:db8:ffff::fe") })

        let xclient = IdentityAxis.applied(.xclient, to: scenario)
        #expect(xclient.receiver.proxyProtocol == nil)
        #expect(xclient.receiver.xclientHosts == [IPAddress("198.51.100.254")!, IPAddress("2001:db8:ffff::fe")!])
        #expect(xclient.sender.xclientName == nil)

        // A case's own path runs unchanged; its own proxy address is kept on another path.
        var own = scenario
        own.sender.identity = .xclient
        own.sender.proxyAddresses = [.ipv4: IPAddress("198.51.100.5")!, .ipv6: IPAddress("2001:db8:7::5")!]
        own.receiver.xclientHosts = [IPAddress("198.51.100.5")!]
        #expect(IdentityAxis.applied(.xclient, to: own).receiver.xclientHosts == [IPAddress("198.51.100.5")!])
        let socket = IdentityAxis.applied(.socket, to: own)
        #expect(socket.sender.identity == .socket && socket.receiver.xclientHosts.isEmpty)
        #expect(IdentityAxis.applied(.proxyV1, to: own).sender.proxyAddresses[.ipv4] == IPAddress("198.51.100.5"))
        #expect(IdentityAxis.applied(.proxyV1, to: own).dns.records.count == own.dns.records.count)
        // The matrix's proxy never takes an address the case uses.
        var crowded = scenario
        crowded.receiver.addresses.append(IPAddress("198.51.100.254")!)
        #expect(IdentityAxis.applied(.proxyV1, to: crowded).sender.proxyAddresses[.ipv4] == IPAddress("198.51.100.253"))
    }

    @Test func aDifferingPathIsExplainedInOneLine() {
        let scenario = Fixtures.scenario("no-ptr", policy: Preset.fcrdnsStrict.policy)
        let columns = try! IdentityAxis.columns(["proxy-v2", "xclient"])
        let results = [Fixtures.bounce(scenario), Fixtures.bounce(scenario), Fixtures.delivered6(scenario)]
        var matrix = MatrixRunner.assemble(
            [scenario], columns: columns, results: results, target: .builtin, receiverName: "the built-in MX")
        IdentityAxis.annotate(&matrix, cases: [scenario])
        #expect(matrix.isIdentityMatrix)
        #expect(
            matrix.rows[0].cells.map(\.note) == [
                nil, nil,
                "XCLIENT without NAME: the receiver checked nothing (it kept the proxy's own name and looked nothing up for the client)",
            ])
        let text = MatrixText(terminal: Terminal(colour: false)).render(matrix)
        #expect(text.contains("Identity paths: 1 case × 3 paths on the built-in MX"))
        #expect(
            text.contains(
                "matrix: 1 case × 3 identity paths, 1 row differs; expect in the own-path column: 1 passed, 0 failed"))
        #expect(
            text.contains(
                "Where a path's verdict differs from the direct connection's:\n  ≠ no-ptr  xclient: XCLIENT without NAME: the receiver checked nothing"
            ))
        #expect(
            MatrixHTML.render(matrix, title: "t").contains(
                "<span class=\"note\">XCLIENT without NAME: the receiver checked nothing"))
        // Only identity columns get notes; a policy matrix has none.
        var policies = MatrixRunner.assemble(
            [scenario], columns: [.preset(.fcrdns), .preset(.fcrdnsStrict)],
            results: [Fixtures.delivered6(scenario), Fixtures.bounce(scenario)], target: .builtin)
        IdentityAxis.annotate(&policies, cases: [scenario])
        #expect(policies.rows[0].cells.allSatisfy { $0.note == nil })
    }
}

/// The identity columns through real worlds: the case's own policy, the sender behind a proxy.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct IdentityAxisIntegrationTests {
    @Test func xclientWithoutNameAcceptsASenderThatADirectConnectionBounces() async throws {
        let (cases, directory) = try MatrixIntegrationTests.fixtureCases()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var strict = try #require(cases.first { $0.name == "dual-stack-no-ipv6-ptr" })
        strict.receiver.policy = Preset.fcrdnsStrict.policy
        strict.expect = Expectation()
        let runner = MatrixRunner(runner: CaseRunner(configuration: RunConfiguration(), parts: builtinParts), jobs: 2)
        let matrix = await runner.run([strict], columns: try IdentityAxis.columns(["proxy-v2", "xclient"]))
        let row = try #require(matrix.rows.first)
        #expect(
            row.cells.map(\.outcome.label) == [
                "bounced/v6 550 5.7.25 at RCPT", "bounced/v6 550 5.7.25 at RCPT", "delivered/v6",
            ])
        #expect(row.cells.map { $0.note == nil } == [true, true, false])
    }
}
