import DNSCore
import HAProxy
import Testing

/// haproxy.cfg as rendered (no process runs here).
struct HAProxyConfigurationTests {
    static let v4 = IPAddress("192.0.2.10")!
    static let v6 = IPAddress("2001:db8::10")!
    static let proxy4 = IPAddress("198.51.100.5")!
    static let proxy6 = IPAddress("2001:db8:7::5")!

    @Test func eachReceiverAddressGetsAFrontendAndABackendFromTheProxysAddressOfItsFamily() {
        let configuration = HAProxyConfiguration(
            routes: [.init(receiver: Self.v6, source: Self.proxy6), .init(receiver: Self.v4, source: Self.proxy4)],
            header: .v2)
        let text = configuration.render()
        #expect(
            text.contains(
                """
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
        #expect(
            HAProxyConfiguration(routes: [route], header: .v1).render().contains("source 198.51.100.5 send-proxy\n"))
        #expect(HAProxyConfiguration(routes: [route], header: .none).render().contains("source 198.51.100.5\n"))
    }
}
