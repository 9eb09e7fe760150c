import DNSCore
@testable import Postfix
import Runner
import Scenario
import Testing

/// `receiver.proxy_protocol` and `receiver.xclient_hosts` reach the Postfix target's
/// configuration, and cases whose keys differ never share a pooled instance.
struct PostfixIdentityKeyTests {
    static func variants() throws -> [ScenarioCase] {
        let (plain, _) = try PostfixPoolTests.fcrdnsPair()
        var proxied = plain
        proxied.receiver.proxyProtocol = .haproxy
        var xclient = plain
        xclient.receiver.xclientHosts = [IPAddress("203.0.113.7")!]
        var both = xclient
        both.receiver.proxyProtocol = .haproxy
        return [plain, proxied, xclient, both]
    }

    @Test func theKeysBecomeThePostfixIdentity() throws {
        let cases = try Self.variants()
        let identities = cases.map { PostfixReceivers().configuration(for: $0).identity }
        #expect(
            identities == [
                PostfixIdentity(), PostfixIdentity(upstreamProxyProtocol: "haproxy"),
                PostfixIdentity(xclientHosts: [IPAddress("203.0.113.7")!]),
                PostfixIdentity(upstreamProxyProtocol: "haproxy", xclientHosts: [IPAddress("203.0.113.7")!]),
            ])
    }

    @Test func casesWithDifferentIdentityKeysGetDifferentPoolKeys() throws {
        let receivers = PostfixReceivers(pool: PostfixPool(capacity: 1))
        let keys = try Self.variants().map { try #require(receivers.sharingKey(for: $0, settings: RunConfiguration())) }
        #expect(Set(keys).count == keys.count)
        let again = try Self.variants().map { receivers.sharingKey(for: $0, settings: RunConfiguration()) }
        #expect(again == keys.map { Optional($0) }, "the same keys give the same pool key")
    }
}
