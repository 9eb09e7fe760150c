import Postfix
import Testing

/// A Postfix receiver's resolv.conf waits one second unless the run says otherwise
/// (`ResolvConf.timeoutSeconds(for:)`, tested in DNSCoreTests).
struct ResolverTimeoutTests {
    @Test func theDefaultWaitsOneSecond() {
        #expect(PostfixInstance.Options().dnsTimeoutSeconds == 1)
    }
}
