import DNSCore
import HAProxy
import Testing

/// haproxy.cfg and the nftables redirect, as rendered (no process runs here).
struct HAProxyConfigurationTests {
    static let v4 = IPAddress("192.0.2.10")!
    static let v6 = IPAddress("2001:db8::10")!
    static let proxy4 = IPAddress("198.51.100.5")!
    static let proxy6 = IPAddress("2001:db8:7::5")!

    @Test func eachReceiverAddressGetsAFrontendAndABackendFromTheProxysAddressOfItsFamily() {
        let configuration = HAProxyConfiguration(
            routes: [.init(receiver: Self.v6, source: Self.proxy6), .init(receiver: Self.v4, source: Self.proxy4)], header: .v2)
        let text = configuration.render()
        #expect(text.contains("""
            frontend fe_mx1
                bind [2001:db8::10]:62525
                default_backend be_mx1
            backend be_mx1
                server mx1 [2001:db8::10]:25 source [2001:db8:7::5] send-proxy-v2
            frontend fe_mx2
                bind 192.0.2.10:62525
                default_backend be_mx2
            backend be_mx2
                server mx2 192.0.2.10:25 source 198.51.100.5 send-proxy-v2
            """))
        #expect(text.contains("    mode tcp\n"))
        #expect(text.contains("    option tcplog\n"))
        #expect(configuration.frontAddresses == [Self.v6, Self.v4])
    }

    @Test func theHeaderIsTheServerLinesKeyword() {
        let route = HAProxyConfiguration.Route(receiver: Self.v4, source: Self.proxy4)
        #expect(HAProxyConfiguration(routes: [route], header: .v1).render().contains("source 198.51.100.5 send-proxy\n"))
        #expect(HAProxyConfiguration(routes: [route], header: .none).render().contains("source 198.51.100.5\n"))
    }

    @Test func theRedirectSendsOnlyTheSendersConnectionsToPort25ToTheFrontend() {
        let redirect = ConnectionRedirect(
            senders: [IPAddress("203.0.113.25")!, IPAddress("2001:db8:5::25")!], receivers: [Self.v4, Self.v6], frontPort: 62525)
        #expect(redirect.script == """
            table inet mxharness_proxy
            delete table inet mxharness_proxy
            table inet mxharness_proxy {
                chain output {
                    type nat hook output priority -100; policy accept;
                    ip saddr { 203.0.113.25 } ip daddr 192.0.2.10 tcp dport 25 dnat ip to 192.0.2.10:62525
                    ip6 saddr { 2001:db8:5::25 } ip6 daddr 2001:db8::10 tcp dport 25 dnat ip6 to [2001:db8::10]:62525
                }
            }

            """)
    }

    @Test func aReceiverAddressOfAFamilyTheSenderLacksIsNotRedirected() {
        let redirect = ConnectionRedirect(senders: [IPAddress("203.0.113.25")!], receivers: [Self.v4, Self.v6], frontPort: 62525)
        #expect(!redirect.script.contains("ip6 saddr"))
        #expect(redirect.script.contains("ip daddr 192.0.2.10"))
    }
}
