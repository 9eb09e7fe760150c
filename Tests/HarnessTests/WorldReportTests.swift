import DNSCore
@testable import Harness
import MXHarnessTestKit
import Testing

@Suite(.enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct WorldReportTests {
    @Test func everyNameWithWhatItAnswers() async throws {
        let spec = WorldSpec(
            records: try WorldFixture.records([
                "example.test. MX 10 mx.example.test.", "mx.example.test. AAAA 2001:db8::10",
                "alias.example.test. CNAME mx.example.test.",
            ]),
            faults: [DNSFault(name: "broken.example.test", kind: .servfail), DNSFault(name: "gone.example.test", kind: .nxdomain)],
            reverse: .auto)
        let text = try await WorldFixture.withWorld(spec) { await WorldReport.render(spec, resolver: $0.resolver) }
        let expected = """
            example.test.
              MX    10 mx.example.test.
            mx.example.test.
              AAAA  2001:db8::10
            alias.example.test.
              AAAA  2001:db8::10
              CNAME mx.example.test.
            \(IPAddress("2001:db8::10")!.reverseName).
              PTR   mx.example.test.
            broken.example.test.
              SERVFAIL (every type)
            gone.example.test.
              NXDOMAIN
            """
        #expect(text == expected)
    }
}
